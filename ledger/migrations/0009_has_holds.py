from django.db import migrations

from ledger.triggers import HAS_HOLDS_KEPT, HOLDS_MARK_PAYER


def _mark(apps, schema_editor):
    Account, Hold = apps.get_model("accounts", "Account"), apps.get_model("ledger", "Hold")
    payers = Hold.objects.values("from_account_id")
    Account.objects.filter(id__in=payers).update(has_holds=True)


class Migration(migrations.Migration):
    """Mark every account a hold was written from (PENDING or since captured, voided, expired),
    then let the database keep the mark."""

    dependencies = [("accounts", "0006_has_holds"), ("ledger", "0008_available_gate")]

    operations = [
        # The trigger first: a hold written while this runs is then marked either way.
        HOLDS_MARK_PAYER.operation(),
        migrations.RunPython(_mark, migrations.RunPython.noop),
        HAS_HOLDS_KEPT.operation(),
    ]

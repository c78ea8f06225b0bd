import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from bankledger.core.indexes import own_index_dropped


def _dropped(name: str, **field):
    return own_index_dropped(
        "transactions",
        migrations.AlterField(
            model_name="transaction",
            name=name,
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, **field
            ),
        ),
    )


class Migration(migrations.Migration):
    """Six indexes fewer to write per transaction: from/to account, initiator and batch are led
    by wider indexes; the reversal and hold links are indexed only where set."""

    dependencies = [
        ("accounts", "0005_limits"),
        ("ledger", "0007_foreign_key_indexes"),
        ("transactions", "0006_metadata_limits"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        _dropped(
            "batch", blank=True, null=True, related_name="transactions", to="transactions.batch"
        ),
        _dropped("from_account", related_name="outgoing", to="accounts.account"),
        _dropped("hold", blank=True, null=True, related_name="captures", to="ledger.hold"),
        _dropped("initiator", related_name="transactions", to=settings.AUTH_USER_MODEL),
        _dropped(
            "reversal_of",
            blank=True,
            null=True,
            related_name="reversals",
            to="transactions.transaction",
        ),
        _dropped("to_account", related_name="incoming", to="accounts.account"),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(
                condition=models.Q(("reversal_of__isnull", False)),
                fields=["reversal_of"],
                name="transactions_reversal_of_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(
                condition=models.Q(("hold__isnull", False)),
                fields=["hold"],
                name="transactions_hold_idx",
            ),
        ),
    ]

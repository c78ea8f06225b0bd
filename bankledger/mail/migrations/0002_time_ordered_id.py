from django.db import migrations

from bankledger.core.ids import new_id_default


class Migration(migrations.Migration):
    """New emails get time-ordered ids (bankledger.core.ids.new_id)."""

    dependencies = [("mail", "0001_initial")]

    operations = [new_id_default("email")]

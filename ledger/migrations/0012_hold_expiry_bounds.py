from django.db import migrations

from ledger.triggers import HOLD_EXPIRY_BOUNDS


class Migration(migrations.Migration):
    """The database refuses a hold that would last less than a second or more than 30 days
    (API.md "Holds": `expiresIn`), as the API does. A trigger, not a CHECK: adding a CHECK
    rebuilds the table on SQLite, and with it would go the table's other triggers."""

    dependencies = [("ledger", "0011_holders_gate_time_ordered_ids")]

    operations = [HOLD_EXPIRY_BOUNDS.operation()]

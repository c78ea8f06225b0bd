"""The database refuses metadata outside API.md's limits on new transactions and holds, as the
API's validation does (the models' CHECK already made it an object)."""

from django.db import migrations

from transactions import triggers


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0006_hold"),
        ("transactions", "0005_captures"),
    ]

    operations = [rule.operation() for rule in triggers.METADATA_LIMITS]

from django.db import migrations

from bankledger.core.ids import new_id_default
from ledger.migrations._available_rule import AS_0008
from ledger.triggers import ACCOUNTS_WITHIN_AVAILABLE


def _installer(rule):
    """Install `rule` in place of the one of its name: on PostgreSQL CREATE OR REPLACE does
    it; SQLite's is dropped first (it creates a trigger only if none has the name)."""

    def install(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            rule.uninstall(schema_editor.connection)
        rule.install(schema_editor.connection)

    return install


class Migration(migrations.Migration):
    """An account that never held money no longer calls the available-funds function when its
    balance goes down (nothing is held: its CHECK is the whole rule). New holds get
    time-ordered ids (bankledger.core.ids.new_id)."""

    dependencies = [("ledger", "0010_hold_rules")]

    operations = [
        migrations.RunPython(_installer(ACCOUNTS_WITHIN_AVAILABLE), _installer(AS_0008)),
        new_id_default("hold"),
    ]

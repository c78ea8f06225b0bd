from django.db import migrations

from ledger.migrations._available_rule import AS_0006, AS_0008


def _installer(rule):
    def install(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":  # SQLite's WHEN was whole already
            rule.install(schema_editor.connection)

    return install


class Migration(migrations.Migration):
    """PostgreSQL tests the cheap part of "balance - held never below -overdraft_limit" in the
    trigger's WHEN: a credited account's row no longer calls the function."""

    dependencies = [("ledger", "0007_foreign_key_indexes")]

    operations = [migrations.RunPython(_installer(AS_0008), _installer(AS_0006))]

import dataclasses

from django.db import migrations

from ledger.triggers import ACCOUNTS_WITHIN_AVAILABLE

# The rule as 0006 installed it: the whole condition tested in the function, on every row.
_UNGATED = dataclasses.replace(
    ACCOUNTS_WITHIN_AVAILABLE,
    gate="",
    when=f"{ACCOUNTS_WITHIN_AVAILABLE.gate} AND {ACCOUNTS_WITHIN_AVAILABLE.when}",
)


def _installer(rule):
    def install(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":  # SQLite's WHEN was whole already
            rule.install(schema_editor.connection)

    return install


class Migration(migrations.Migration):
    """PostgreSQL tests the cheap part of "balance - held never below -overdraft_limit" in the
    trigger's WHEN: a credited account's row no longer calls the function."""

    dependencies = [("ledger", "0007_foreign_key_indexes")]

    operations = [migrations.RunPython(_installer(ACCOUNTS_WITHIN_AVAILABLE), _installer(_UNGATED))]

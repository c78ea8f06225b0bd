"""The ledger's refusals are now written by `bankledger.core.triggers` for both databases, with
one trigger per refused event under the names SQLite already used; PostgreSQL's single
`ledger_entry_immutable` trigger and function give way to them."""

from django.db import migrations

from ledger import triggers

LEGACY = [
    "DROP TRIGGER IF EXISTS ledger_entry_immutable ON ledger_ledgerentry",
    "DROP FUNCTION IF EXISTS ledger_entry_immutable()",
]


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in LEGACY:
                cursor.execute(sql)
    triggers.install(connection)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_immutable_triggers")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]

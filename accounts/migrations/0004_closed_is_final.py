"""A CLOSED account never changes status again, enforced by the database: a CHECK cannot see
the old row, so this is a trigger (PostgreSQL and SQLite), like the ledger's immutability."""

from django.db import migrations

MESSAGE = "a closed account cannot be reopened"

POSTGRES = [
    f"""
    CREATE OR REPLACE FUNCTION accounts_closed_is_final() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER accounts_closed_is_final BEFORE UPDATE ON accounts_account
    FOR EACH ROW WHEN (OLD.status = 'CLOSED' AND NEW.status <> 'CLOSED')
    EXECUTE FUNCTION accounts_closed_is_final()
    """,
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_closed_is_final ON accounts_account",
    "DROP FUNCTION IF EXISTS accounts_closed_is_final()",
]
SQLITE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS accounts_closed_is_final BEFORE UPDATE OF status
    ON accounts_account WHEN OLD.status = 'CLOSED' AND NEW.status <> 'CLOSED'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS accounts_closed_is_final"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            for sql in statements_by_vendor[schema_editor.connection.vendor]:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_account_status_change")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        )
    ]

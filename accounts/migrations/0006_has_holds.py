from django.db import migrations, models


def _add_column(apps, schema_editor):
    # A plain ADD COLUMN on both databases: Django's AddField of a NOT NULL column rebuilds the
    # table on SQLite, which would drop the accounts table's triggers with it.
    false = "false" if schema_editor.connection.vendor == "postgresql" else "0"
    schema_editor.execute(
        f"ALTER TABLE accounts_account ADD COLUMN has_holds bool NOT NULL DEFAULT {false}"
    )


def _drop_column(apps, schema_editor):
    schema_editor.execute("ALTER TABLE accounts_account DROP COLUMN has_holds")


class Migration(migrations.Migration):
    """Whether a PENDING hold was ever written from the account (ledger's migration 0009 fills
    it in and installs the trigger that keeps it)."""

    dependencies = [("accounts", "0005_limits")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="account",
                    name="has_holds",
                    field=models.BooleanField(db_default=False, default=False, editable=False),
                )
            ],
            database_operations=[migrations.RunPython(_add_column, _drop_column)],
        )
    ]

"""A CLOSED account never changes status again, enforced by the database: a CHECK cannot see
the old row, so this is a trigger (PostgreSQL and SQLite), like the ledger's immutability."""

from django.db import migrations

from bankledger.core.triggers import Refusal

CLOSED_IS_FINAL = Refusal(
    name="accounts_closed_is_final",
    table="accounts_account",
    event="UPDATE",
    when="OLD.status = 'CLOSED' AND NEW.status <> 'CLOSED'",
    message="a closed account cannot be reopened",
    errcode="check_violation",
)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_account_status_change")]

    operations = [CLOSED_IS_FINAL.operation()]

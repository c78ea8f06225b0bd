"""The database refuses any UPDATE or DELETE of a ledger entry, even from raw SQL, on PostgreSQL
and SQLite alike. Installed by a migration; `flush` (overridden in this app) lifts them for the
length of a deliberate wipe of the whole database."""

from bankledger.core.triggers import Refusal
from ledger.models import LedgerEntry

MESSAGE = "ledger entries are immutable"

IMMUTABLE = [
    Refusal(
        name=f"ledger_entry_no_{event.lower()}",
        table=LedgerEntry._meta.db_table,
        event=event,
        message=MESSAGE,
    )
    for event in ("UPDATE", "DELETE")
]


def install(connection) -> None:
    for rule in IMMUTABLE:
        rule.install(connection)


def uninstall(connection) -> None:
    for rule in IMMUTABLE:
        rule.uninstall(connection)

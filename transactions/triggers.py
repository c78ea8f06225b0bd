"""What the database itself refuses on transactions and batches, even from raw SQL (PostgreSQL
and SQLite alike): a transaction's reference, metadata and batch link never change once
written, a batch never changes at all (its outcome is final), and no transaction or hold is
written with metadata outside API.md's limits."""

from bankledger.core.annotations import metadata_broken_sql
from bankledger.core.triggers import Refusal
from ledger.models import Hold
from transactions.models import Batch, Transaction

_CHANGED = " OR ".join(
    f"OLD.{column} <> NEW.{column} OR (OLD.{column} IS NULL) <> (NEW.{column} IS NULL)"
    for column in ("reference", "metadata", "batch_id", "batch_index")
)

RULES = [
    Refusal(
        name="transactions_annotations_immutable",
        table=Transaction._meta.db_table,
        event="UPDATE",
        when=_CHANGED,
        message="transaction reference, metadata and batch are immutable",
    ),
    Refusal(
        name="batches_immutable",
        table=Batch._meta.db_table,
        event="UPDATE",
        message="a batch cannot change",
    ),
]

# Installed by their own migration (0006), after holds exist; a later migration that rebuilds
# one of these tables on SQLite must install them again.
METADATA_LIMITS = [
    Refusal(
        name=f"{model._meta.db_table}_metadata_limits",
        table=model._meta.db_table,
        event="INSERT",
        when=metadata_broken_sql("NEW.metadata"),
        message="metadata outside its limits (16 entries, keys of 1-40 A-Z a-z 0-9 _ . -, "
        "string values of at most 500 characters)",
        errcode="check_violation",
    )
    for model in (Transaction, Hold)
]

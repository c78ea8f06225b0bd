"""What the database itself refuses on transactions and batches, even from raw SQL (PostgreSQL
and SQLite alike): a transaction's reference, metadata and batch link never change once
written, and a batch never changes at all (its outcome is final)."""

from bankledger.core.triggers import Refusal
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

"""Posted transactions as their receipts show them, read from the ledger tables (the
Transaction through `LedgerEntry.transaction`: this app may not import `transactions`)."""

import uuid
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from ledger.log.receipts import Leg, PostedTransaction
from ledger.models import LedgerEntry

_FIELDS = (
    "transaction_id",
    "transaction__kind",
    "transaction__amount",
    "transaction__currency",
    "transaction__created_at",
    "id",
    "account_id",
    "type",
    "amount",
    "balance_after",
)


def posted_rows(entries: QuerySet[LedgerEntry], *extra: str) -> QuerySet:
    """`extra` fields first, then what a PostedTransaction needs, per entry."""
    return entries.values_list(*extra, *_FIELDS)


def posted_from(rows: Iterable[tuple], extra: int = 0) -> Iterator[tuple[tuple, PostedTransaction]]:
    """Group rows (ordered so that a transaction's entries are adjacent, by entry id) into
    (extra values, PostedTransaction) pairs."""
    current, legs = None, []
    for row in rows:
        head, (tx_id, kind, amount, currency, created_at, *leg) = row[:extra], row[extra:]
        if current is not None and current[1][0] != tx_id:
            yield _posted(current, legs)
            legs = []
        current = (head, (tx_id, kind, amount, currency, created_at))
        legs.append(Leg(*leg))
    if current is not None:
        yield _posted(current, legs)


def _posted(current, legs) -> tuple[tuple, PostedTransaction]:
    head, (tx_id, kind, amount, currency, created_at) = current
    return head, PostedTransaction(tx_id, kind, amount, currency, created_at, tuple(legs))


def posted_get(transaction_ids: list[uuid.UUID]) -> dict[uuid.UUID, PostedTransaction]:
    """These transactions as posted; one without ledger entries is absent."""
    rows = posted_rows(
        LedgerEntry.objects.filter(transaction_id__in=transaction_ids).order_by(
            "transaction_id", "id"
        )
    )
    return {posting.transaction_id: posting for _, posting in posted_from(rows)}

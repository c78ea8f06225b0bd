"""Reads for transactions: the caller's history and single transactions.

Who sees a transaction: the user who initiated it, the owner of the sending account, and the
owner of the receiving account unless it FAILED (a refused attempt moved nothing into their
account). System users see every transaction, as support staff must to reverse one."""

import json
import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, CharField, F, Func, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Exact

from accounts.models import Account
from accounts.selectors import account_get_visible
from bankledger.core.ids import parse_id
from bankledger.core.pagination import InvalidCursor, Page, cursor_decode, page_from
from bankledger.core.replicas import lag_tolerant
from transactions.exceptions import TransactionNotFound
from transactions.models import METADATA_INDEXED, Transaction
from users.models import User


def _visible(user: User) -> QuerySet[Transaction]:
    if user.is_system:
        return Transaction.objects.all()
    own_accounts = Account.objects.filter(user=user).values("id")
    return Transaction.objects.filter(
        Q(initiator=user)
        | Q(from_account__in=own_accounts)
        | (Q(to_account__in=own_accounts) & ~Q(status=Transaction.Status.FAILED))
    )


def transaction_get(*, user: User, transaction_id: str) -> Transaction:
    """One transaction the caller may see; a malformed id is an unknown one."""
    key = parse_id(transaction_id, not_found=TransactionNotFound)
    found = _visible(user).filter(id=key).first()
    if found is None:
        raise TransactionNotFound()
    return found


def metadata_has(key: str, value: str):
    """On PostgreSQL `metadata @> {key: value}`, which the GIN index on the metadata serves
    (with the index's own condition, true of any row the containment matches).
    SQLite has no containment operator (Django refuses `contains` there), so it compares the
    key's value; the key is quoted into the JSON path, so a key of digits is not taken for an
    array index as Django's key lookups would."""
    if connection.features.supports_json_field_contains:
        indexed = RawSQL(METADATA_INDEXED, (), BooleanField())  # noqa: S611 (a constant)
        return Q(metadata__contains={key: value}) & Q(indexed)
    path = Value(f"$.{json.dumps(key)}")
    extracted = Func(F("metadata"), path, function="JSON_EXTRACT", output_field=CharField())
    return Exact(extracted, value)


def newest_first_page(rows: QuerySet, *, cursor: str | None, limit: int) -> Page:
    """`rows` newest first, keyset-paginated on (created_at, id), from after `cursor`: the
    transaction and hold lists alike."""
    if cursor:
        rows = rows.filter(_keyset_after(cursor))
    fetched = list(rows.order_by("-created_at", "-id")[: limit + 1])
    return page_from(
        fetched,
        limit=limit,
        position=lambda row: {"t": row.created_at.isoformat(), "id": str(row.id)},
    )


def _keyset_after(cursor: str) -> Q:
    """Rows after `cursor` in (created_at, id) order, newest first."""
    position = cursor_decode(cursor, {"t", "id"})
    try:
        moment, key = datetime.fromisoformat(position["t"]), uuid.UUID(position["id"])
    except (TypeError, ValueError) as exc:
        raise InvalidCursor() from exc
    return Q(created_at__lt=moment) | Q(created_at=moment, id__lt=key)


@lag_tolerant
def transaction_list(
    *,
    user: User,
    limit: int,
    account_id: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    reference: str | None = None,
    metadata: Sequence[tuple[str, str]] = (),
) -> Page:
    """Newest first, keyset-paginated on (created_at, id); `since` inclusive, `until` exclusive.
    `account_id` must be an account the caller may see (another user's is a 404); `reference`
    matches exactly and every (key, value) of `metadata` must be in the metadata."""
    rows = _visible(user)
    if account_id is not None:
        account = account_get_visible(user=user, account_id=account_id)
        rows = rows.filter(Q(from_account=account) | Q(to_account=account))
    if status:
        rows = rows.filter(status=status)
    if reference is not None:
        rows = rows.filter(reference=reference)
    for key, value in metadata:
        rows = rows.filter(metadata_has(key, value))
    if since:
        rows = rows.filter(created_at__gte=since)
    if until:
        rows = rows.filter(created_at__lt=until)
    return newest_first_page(rows, cursor=cursor, limit=limit)


def initial_funds_repeat(
    *, initiator: User, account: Account, amount: int, idempotency_key: str, since: datetime
) -> Transaction | None:
    """The latest initial funding that would be repeated by posting `amount` (minor units) to
    `account` under `idempotency_key`: one `initiator` made since `since` to the same account
    for the same amount under another key, and did not fail. None when this key was used
    already: posting it again only replays that posting."""
    own = Transaction.objects.filter(initiator=initiator)
    if own.filter(idempotency_key=idempotency_key).exists():
        return None
    return (
        own.filter(
            kind=Transaction.Kind.INITIAL_FUNDS,
            to_account=account,
            amount=amount,
            created_at__gte=since,
        )
        .exclude(status=Transaction.Status.FAILED)
        .order_by("-created_at")
        .first()
    )

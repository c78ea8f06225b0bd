"""The posting engine: the one module that writes money.

A service describes a movement as a `Posting` (its legs, its kind, who may make it, what it
links to) and hands it to `post`. Every statement of the money path is here, in this order,
in one database transaction:

1. lock every account row of the posting, in id order (two postings crossing the same
   accounts cannot deadlock; on SQLite the write lock taken at BEGIN IMMEDIATE serializes);
2. check, on the locked rows, who may move the money and whether it may move (status,
   currency, balance) — a refusal is recorded as a FAILED transaction for its key's replay;
3. insert the transaction row, the DEBIT and CREDIT legs with each balance after them, and
   update both cached balances relatively;
4. write the outbox row, so the side effects exist exactly when the movement committed.

The unique (initiator, idempotency key) index, not a prior read, decides who wins a race for a
key. Deadlocks and serialization failures are retried a bounded number of times, then 503.

The fixed statements are plain SQL with column lists taken from the models: building them
through the ORM cost several times the Python of the statements themselves (README,
Benchmarks), while Django's own field conversions are kept, so the values written are exactly
what `save()` would write, on PostgreSQL and SQLite alike."""

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.utils import timezone

from accounts.models import Account
from bankledger.core.errors import ServiceUnavailable
from bankledger.core.money import currency_exponent, to_minor_units
from ledger.exceptions import (
    REFUSALS,
    AccountNotActive,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAccounts,
    InvalidAmount,
    NotAccountOwner,
    NotReversible,
    TransferRefused,
)
from ledger.models import LedgerEntry

logger = logging.getLogger(__name__)

# Deadlocks and serialization failures are retried this many times in all, then 503.
MAX_ATTEMPTS = 3
_RETRYABLE_SQLSTATES = {"40001", "40P01"}


@dataclass(frozen=True)
class Leg:
    """Money leaving `from_id` for `to_id`. `amount` is a Decimal in major units, checked and
    converted on the sending account's currency once its row is locked, or an int that is
    already in minor units (a reversal moves back exactly what was moved)."""

    from_id: uuid.UUID
    to_id: uuid.UUID
    amount: Decimal | int


@dataclass(frozen=True)
class Posting:
    """What a service asks the engine to write.

    `model` is the transaction row's model (the engine sits below the app that defines it);
    `owner_id`, when set, is the only user whose accounts may send (`None`: a system user moves
    money it does not own); `reverses` is the COMPLETED transaction this one moves back, locked,
    re-checked and marked REVERSED in the same database transaction; `fields` are further
    columns of the transaction row; `fingerprint` is what "the same request" means for the key
    when it is not the legs themselves; `notify` is the task whose row is the outbox of each
    posted transaction."""

    model: type[models.Model]
    kind: str
    initiator: Any
    idempotency_key: str
    legs: tuple[Leg, ...]
    owner_id: uuid.UUID | None = None
    reverses: models.Model | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    notify: Any = None


@dataclass(frozen=True)
class Posted:
    transaction: models.Model
    replayed: bool


def post(posting: Posting) -> Posted:
    """Write `posting` once, whatever the concurrency, or replay what its key already did.
    Raises the recorded refusal (`TransferRefused`, carrying the FAILED row) or an unrecorded
    one (unknown accounts, not the owner, an invalid amount)."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return _post_once(posting)
        except OperationalError as exc:
            if not _is_retryable(exc):
                raise
            logger.warning("posting attempt %d of %d failed: %s", attempt, MAX_ATTEMPTS, exc)
    raise ServiceUnavailable()


def _post_once(posting: Posting) -> Posted:
    (leg,) = posting.legs
    record = None
    try:
        with transaction.atomic():
            locked = _accounts_lock([leg.from_id, leg.to_id])
            if len(locked) != 2:
                raise InvalidAccounts()
            sender, receiver = locked[leg.from_id], locked[leg.to_id]
            if posting.owner_id is not None and sender.user_id != posting.owner_id:
                raise NotAccountOwner()
            amount = _minor_units(leg.amount, sender.currency)
            refusal = _reversal_refusal(posting.reverses) or _refusal(sender, receiver, amount)
            record = _transaction_row(posting, sender, receiver, amount, refusal)
            _row_insert(record)
            if refusal is None:
                _legs_post(record, sender, receiver, amount)
                if posting.notify is not None:
                    posting.notify.enqueue(str(record.id))
                if posting.reverses is not None:
                    _mark_reversed(posting.reverses)
    except IntegrityError:
        replay = record and _replay(posting, fingerprint=record.fingerprint)
        if replay is None:
            raise
        return replay
    if refusal is not None:
        raise refusal(transaction=record)
    return Posted(transaction=record, replayed=False)


def _is_retryable(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in _RETRYABLE_SQLSTATES or "database is locked" in str(exc)


def _minor_units(amount: Decimal | int, currency: str) -> int:
    if isinstance(amount, int):
        return amount
    exponent = currency_exponent(currency)
    minor = to_minor_units(amount, exponent)
    if minor is None:
        raise InvalidAmount(f"{currency} amounts have at most {exponent} decimal places.")
    if minor > settings.MAX_TRANSFER_MINOR_UNITS:
        raise InvalidAmount("Amount exceeds the largest allowed transfer.")
    return minor


def _refusal(sender: Account, receiver: Account, amount: int) -> type[TransferRefused] | None:
    if sender.status != Account.Status.ACTIVE or receiver.status != Account.Status.ACTIVE:
        return AccountNotActive
    if sender.currency != receiver.currency:
        return CurrencyMismatch
    if not sender.is_funding and sender.balance < amount:
        return InsufficientFunds
    return None


def _reversal_refusal(original: models.Model | None) -> type[TransferRefused] | None:
    """Re-read the original under a row lock: only a COMPLETED non-reversal can be reversed."""
    if original is None:
        return None
    rows = type(original)._default_manager
    current = rows.select_for_update().only("status", "kind").get(id=original.id)
    if current.status != original.Status.COMPLETED or current.kind == original.Kind.REVERSAL:
        return NotReversible
    return None


def _mark_reversed(original: models.Model) -> None:
    type(original)._default_manager.filter(id=original.id).update(
        status=original.Status.REVERSED, updated_at=timezone.now()
    )


def _transaction_row(posting, sender, receiver, amount, refusal) -> models.Model:
    Status = posting.model.Status
    return posting.model(
        from_account=sender,
        to_account=receiver,
        amount=amount,
        currency=sender.currency,
        kind=posting.kind,
        initiator=posting.initiator,
        idempotency_key=posting.idempotency_key,
        fingerprint=posting.fingerprint or f"{sender.id}:{receiver.id}:{amount}",
        reversal_of=posting.reverses,
        status=Status.FAILED if refusal else Status.COMPLETED,
        failure_code=refusal.code if refusal else "",
        failure_message=refusal.message if refusal else "",
        **posting.fields,
    )


def _replay(posting: Posting, *, fingerprint: str) -> Posted | None:
    """The earlier outcome for this key, or None when the key is in fact unused."""
    existing = posting.model._default_manager.filter(
        initiator=posting.initiator, idempotency_key=posting.idempotency_key
    ).first()
    if existing is None:
        return None
    if existing.fingerprint != fingerprint:
        raise IdempotencyConflict()
    if existing.status == existing.Status.FAILED:
        raise REFUSALS[existing.failure_code](existing.failure_message, transaction=existing)
    return Posted(transaction=existing, replayed=True)


# --- the fixed statements ------------------------------------------------------------------


def _columns(model, names) -> list[str]:
    return [connection.ops.quote_name(model._meta.get_field(name).column) for name in names]


def _db_id(value) -> Any:
    return Account._meta.pk.get_db_prep_value(value, connection)


# In the model's field order: `Model.from_db` assigns a partial row's values in that order,
# whatever order the names are given in.
_LOCKED_FIELDS = [
    field
    for field in Account._meta.concrete_fields
    if field.name in {"id", "user", "status", "currency", "balance", "is_funding"}
]
# The database driver may answer a UUID column as text (SQLite): those values are converted.
_LOCKED_UUIDS = [
    isinstance(field, models.UUIDField) or isinstance(field.target_field, models.UUIDField)
    if field.is_relation
    else isinstance(field, models.UUIDField)
    for field in _LOCKED_FIELDS
]
_ID = connection.ops.quote_name(Account._meta.pk.column)


def _accounts_lock(account_ids: list[uuid.UUID]) -> dict[uuid.UUID, Account]:
    """Lock these account rows, in id order, and return the ones that exist."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    columns = ", ".join(connection.ops.quote_name(field.column) for field in _LOCKED_FIELDS)
    sql = (
        f"SELECT {columns} FROM {Account._meta.db_table}"
        f" WHERE {_ID} IN ({', '.join(['%s'] * len(account_ids))}) ORDER BY {_ID}{lock}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_db_id(key) for key in account_ids])
        rows = cursor.fetchall()
    names = [field.attname for field in _LOCKED_FIELDS]
    accounts = {}
    for row in rows:
        values = [
            uuid.UUID(str(value)) if is_uuid else value
            for is_uuid, value in zip(_LOCKED_UUIDS, row, strict=True)
        ]
        account = Account.from_db(connection.alias, names, values)
        account.is_funding = bool(account.is_funding)  # SQLite answers 0/1
        accounts[account.id] = account
    return accounts


@cache
def _insert_statement(model) -> tuple[list, str]:
    fields = list(model._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return fields, f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({placeholders})"


def _row_insert(instance: models.Model) -> None:
    """INSERT `instance` as `save(force_insert=True)` would, minus the query building. Raises
    the same `IntegrityError` when a constraint refuses the row."""
    fields, sql = _insert_statement(type(instance))
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
    instance._state.adding = False
    instance._state.db = connection.alias


@cache
def _legs_statements() -> tuple[str, str]:
    leg_columns = _columns(
        LedgerEntry, ["account", "transaction", "type", "amount", "balance_after", "created_at"]
    )
    legs = (
        f"INSERT INTO {LedgerEntry._meta.db_table} ({', '.join(leg_columns)})"
        " VALUES (%s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s)"
    )
    balance, updated_at = _columns(Account, ["balance", "updated_at"])
    # Relative, as the yardstick does: even a caller that forgot the row lock could not lose
    # an update; the CHECK constraint still refuses a user balance below zero.
    balances = (
        f"UPDATE {Account._meta.db_table}"
        f" SET {balance} = {balance} + CASE WHEN {_ID} = %s THEN %s ELSE %s END,"
        f" {updated_at} = %s WHERE {_ID} IN (%s, %s)"
    )
    return legs, balances


def _legs_post(record: models.Model, sender: Account, receiver: Account, amount: int) -> None:
    """One DEBIT on the sender, one CREDIT on the receiver, each with the balance after it, and
    both cached balances updated. The legs carry their transaction's own time, so a balance
    "as of" a transaction's createdAt includes that transaction."""
    now = record.created_at
    sender.balance -= amount
    receiver.balance += amount
    sender.updated_at = receiver.updated_at = now
    sender_id, receiver_id = _db_id(sender.id), _db_id(receiver.id)
    record_id = record._meta.pk.get_db_prep_value(record.id, connection)
    at = connection.ops.adapt_datetimefield_value(now)
    legs, balances = _legs_statements()
    with connection.cursor() as cursor:
        cursor.execute(
            legs,
            [
                *(sender_id, record_id, LedgerEntry.Type.DEBIT, amount, sender.balance, at),
                *(receiver_id, record_id, LedgerEntry.Type.CREDIT, amount, receiver.balance, at),
            ],
        )
        cursor.execute(balances, [sender_id, -amount, amount, at, sender_id, receiver_id])

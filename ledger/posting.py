"""The posting engine: with `ledger.holds` (a hold's capture marking, void and expiry), the
one place that writes money.

A service describes a movement as a `Posting` (its legs, its kind, who may make it, what it
links to) and hands it to `post`. Every statement of the money path is here, in this order,
in one database transaction:

1. lock every account row of the posting, in id order (two postings crossing the same
   accounts cannot deadlock; on SQLite the write lock taken at BEGIN IMMEDIATE serializes);
2. check, on the locked rows, who may move the money and whether it may move (status,
   currency, what is available: balance - held + overdraft, the daily outflow limit) — a
   refusal is recorded as a FAILED transaction (or hold, or batch) for its key's replay;
3. insert the transaction row, the DEBIT and CREDIT legs with each balance after them, and
   update both cached balances relatively;
4. write the outbox row, so the side effects exist exactly when the movement committed.

A batch builds its transaction rows and events before step 1, from an unlocked read of its
accounts (`_draft`): what they are built from, each account's currency and owner, never changes
(`accounts.triggers.IDENTITY`), and under the locks they are used only if their time still
follows every entry of their accounts. The locks, which every batch crossing the same accounts
waits for, are then held for the checks and the writes alone.

On PostgreSQL a one-leg movement between accounts the engine has read before is first tried as
one statement, its own database transaction (`_post_direct`): the same locked read, the checks
that a movement passes as prepared, and the same writes, each conditioned on those checks. It
writes nothing when it cannot decide alone (any refusal, holds, a daily limit, a key used
before), and the movement then takes the path above, which records the refusal or replays.

The unique (initiator, idempotency key) index, not a prior read, decides who wins a race for a
key. Deadlocks and serialization failures are retried a bounded number of times, then 503.

The fixed statements are plain SQL with column lists taken from the models: building them
through the ORM cost several times the Python of the statements themselves (README,
Benchmarks), while Django's own field conversions are kept, so the values written are exactly
what `save()` would write, on PostgreSQL and SQLite alike."""

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.utils import timezone

from accounts.models import Account
from bankledger.core.errors import ApplicationError
from bankledger.core.ids import new_id
from bankledger.core.money import currency_exponent, format_minor_units, to_minor_units
from bankledger.core.writes import Writes, cast_type
from bankledger.events.models import Event
from bankledger.events.services import event_fields, events_insert, events_rows
from bankledger.events.types import NewEvent
from ledger.exceptions import (
    REFUSALS,
    AccountNotActive,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAccounts,
    InvalidAmount,
    LimitExceeded,
    NotAccountOwner,
    NotReversible,
    TransferRefused,
)
from ledger.holds import held_by, hold_event, hold_mark_captured, hold_refusal
from ledger.limits import outflow_remaining, outflow_used
from ledger.models import Hold, LedgerEntry
from ledger.retrying import retrying


@dataclass(frozen=True)
class Leg:
    """Money leaving `from_id` for `to_id`. `amount` is a Decimal in major units, checked and
    converted on the sending account's currency once its row is locked, or an int that is
    already in minor units (a reversal moves back exactly what was moved). `fields` are further
    columns of this leg's transaction row (a reference, metadata) and part of what "the same
    request" means for the key."""

    from_id: uuid.UUID
    to_id: uuid.UUID
    amount: Decimal | int
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Posting:
    """What a service asks the engine to write: one transaction row per leg.

    `model` is the transaction row's model (the engine sits below the app that defines it);
    `owner_id`, when set, is the only user whose accounts may send (`None`: a system user moves
    money it does not own); `reverses` is the COMPLETED transaction this one moves back, locked,
    re-checked and marked REVERSED in the same database transaction; `fields` are further
    columns of the transaction row; `fingerprint` is what "the same request" means for the key
    when it is not the legs themselves; `render` renders a transaction row as the API does, for
    the `transaction.*` events that are the posting's outbox. `batch_model`, when set,
    makes the legs a batch: a row of that model holds the key and the outcome (FAILED with the
    first refused leg's index, or COMPLETED), and every leg's transaction links to it in
    order. `captures` is the PENDING hold a CAPTURE posts: locked, re-checked and marked
    CAPTURED in the same database transaction, its reservation released before the payer's
    available amount is checked. `reserves` makes the one leg a hold instead of a movement: a
    Hold row (with `fields`) holds the key and the outcome, and nothing is posted;
    `render_hold` renders a hold for the `hold.*` events."""

    model: type[models.Model]
    kind: str
    initiator: Any
    idempotency_key: str
    legs: tuple[Leg, ...]
    owner_id: uuid.UUID | None = None
    reverses: models.Model | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    render: Callable[[models.Model], dict] | None = None
    batch_model: type[models.Model] | None = None
    captures: Hold | None = None
    reserves: bool = False
    render_hold: Callable[[Hold], dict] | None = None


@dataclass(frozen=True)
class Posted:
    """The transaction written or replayed; for a batch, the batch row instead and, when just
    posted, its transactions in item order (a replay reads them from the database)."""

    transaction: models.Model | None
    replayed: bool
    batch: models.Model | None = None
    hold: Hold | None = None
    items: tuple[models.Model, ...] = ()


@dataclass(slots=True)
class _Account:
    """An account row as the engine reads it, and what the checks track on it (what it holds,
    what left it today): a plain object, made for every account of every posting while the
    locks are held, at a tenth of a model instance's cost."""

    id: uuid.UUID
    user_id: uuid.UUID
    currency: str
    balance: int
    overdraft_limit: int
    daily_outflow_limit: int | None
    status: str
    is_funding: bool
    has_holds: bool
    updated_at: datetime
    held: int = 0
    outflow_used: int = 0


@dataclass
class _Move:
    """A leg resolved on the locked rows: its accounts, its amount in minor units and, once
    checked, each account's balance after it."""

    leg: Leg
    sender: "_Account | _Identity"
    receiver: "_Account | _Identity"
    amount: int
    sender_after: int = 0
    receiver_after: int = 0


@dataclass
class _Outcome:
    """What the checks decided: the first refusal, its leg's index and, for `limit_exceeded`,
    what the limit still allowed (minor units)."""

    refused: type[TransferRefused] | None = None
    index: int = 0
    remaining: int | None = None


def post(posting: Posting) -> Posted:
    """Write `posting` once, whatever the concurrency, or replay what its key already did.
    Raises the recorded refusal (`TransferRefused`, carrying the FAILED row) or an unrecorded
    one (unknown accounts, not the owner, an invalid amount; with the leg's `index` in a
    batch)."""
    return retrying(lambda: _post_once(posting))


def _post_once(posting: Posting) -> Posted:
    record, items = None, []
    # The connection itself, not the thread-local proxy: the statements below reach it dozens
    # of times, and each pass through the proxy costs a context-local lookup.
    db = connections[DEFAULT_DB_ALIAS]
    if _direct_applies(posting, db):
        posted = _post_direct(posting, db)
        if posted is not None:
            return posted
    ids = sorted({leg_id for leg in posting.legs for leg_id in (leg.from_id, leg.to_id)})
    draft = _draft(posting, db, ids) if posting.batch_model is not None else None
    try:
        with transaction.atomic():
            moves = _moves(posting, _accounts_read(db, ids, lock=True))
            outcome = _check(posting, moves)
            refused = outcome.refused
            fingerprint = posting.fingerprint or _fingerprint(posting, moves)
            if draft is not None and not _draft_in_time(draft, moves):
                draft = None
            record = _record(posting, moves, outcome, fingerprint, draft)
            writes = Writes(db)
            _rows_insert(writes, [record])
            if refused is None and posting.reserves:
                writes.flush()
                _hold_outbox(posting, record, "hold.created")
            elif refused is None:
                items = _moves_post(posting, record, moves, writes, draft)
            elif posting.batch_model is None and not posting.reserves:
                _outbox(posting, [record], moves, writes, refused=True)
            writes.flush()
    except IntegrityError:
        replay = record and _replay(posting, fingerprint=record.fingerprint, moves=moves)
        if replay is None:
            raise
        return replay
    if refused is None:
        return _posted(posting, record, replayed=False, items=items)
    raise _refusal_of(posting, record, moves)


def _record(posting: Posting, moves: list[_Move], outcome: _Outcome, fingerprint: str, draft):
    """The row that holds the key and the outcome: the transaction, the batch (with the id its
    drafted items link to) or the hold."""
    if posting.batch_model is not None:
        return _batch_row(posting, fingerprint, outcome, draft)
    if posting.reserves:
        return _hold_row(posting, moves[0], outcome, fingerprint)
    return _transaction_row(posting, moves[0], outcome, fingerprint)


def _refusal_of(posting: Posting, record, moves: list[_Move]) -> TransferRefused:
    """The recorded refusal as an exception, the same when it is first made and on a replay."""
    refusal = REFUSALS[record.failure_code]
    index = getattr(record, "failure_index", None) or 0
    remaining = record.failure_remaining
    if remaining is not None:
        remaining = format_minor_units(remaining, moves[index].sender.currency)
    if posting.batch_model is not None:
        return refusal(record.failure_message, batch=record, index=index, remaining=remaining)
    if posting.reserves:
        return refusal(record.failure_message, hold=record, remaining=remaining)
    return refusal(record.failure_message, transaction=record, remaining=remaining)


def _posted(posting: Posting, record: models.Model, *, replayed: bool, items=()) -> Posted:
    if posting.batch_model is not None:
        return Posted(transaction=None, replayed=replayed, batch=record, items=tuple(items))
    if posting.reserves:
        return Posted(transaction=None, replayed=replayed, hold=record)
    return Posted(transaction=record, replayed=replayed)


def _moves(posting: Posting, locked: dict[uuid.UUID, _Account]) -> list[_Move]:
    """Resolve every leg on the rows read (locked, or for a draft not); an unknown account, a
    sender that is not the owner's or an invalid amount refuses the whole posting (with the
    leg's index in a batch)."""
    moves = []
    for index, leg in enumerate(posting.legs):
        try:
            sender, receiver = locked.get(leg.from_id), locked.get(leg.to_id)
            if sender is None or receiver is None:
                raise InvalidAccounts()
            if posting.owner_id is not None and sender.user_id != posting.owner_id:
                raise NotAccountOwner()
            amount = _minor_units(leg.amount, sender.currency)
        except ApplicationError as exc:
            if posting.batch_model is not None:
                exc.extra["index"] = index
            raise
        moves.append(_Move(leg, sender, receiver, amount))
    return moves


def _check(posting: Posting, moves: list[_Move]) -> _Outcome:
    """Check the legs in order against the balances the earlier legs leave (a leg may spend
    what an earlier one credited): the first refusal and its index, or no refusal when every
    leg may move. Each move learns its accounts' balances after it."""
    refusal = _reversal_refusal(posting.reverses) or hold_refusal(posting.captures)
    if refusal is not None:
        return _Outcome(refusal)
    counts = posting.kind != "REVERSAL"  # a correction is not an outflow the owner chose
    _funds_read(moves, limits=counts)
    if posting.captures is not None:
        moves[0].sender.held -= posting.captures.amount  # the reservation becomes the movement
    for index, move in enumerate(moves):
        refusal = _refusal(move.sender, move.receiver, move.amount)
        if refusal is None and counts:
            sender = move.sender
            remaining = outflow_remaining(
                is_funding=sender.is_funding,
                limit=sender.daily_outflow_limit,
                used=sender.outflow_used,
            )
            if remaining is not None and move.amount > remaining:
                return _Outcome(LimitExceeded, index, remaining)
        if refusal is not None:
            return _Outcome(refusal, index)
        move.sender.outflow_used += move.amount
        if posting.reserves:
            move.sender.held += move.amount
            continue
        move.sender.balance -= move.amount
        move.receiver.balance += move.amount
        move.sender_after, move.receiver_after = move.sender.balance, move.receiver.balance
    return _Outcome()


def _funds_read(moves: list[_Move], *, limits: bool) -> None:
    """On the locked rows, what each sending user account holds now (its PENDING holds not yet
    at their expiry; asked only of an account the database marked `has_holds`, which no hold
    can be written without, under this same row lock) and, when it has a daily outflow limit,
    what left it today (UTC)."""
    senders = {move.sender.id: move.sender for move in moves if not move.sender.is_funding}
    for account in {move.sender.id: move.sender for move in moves}.values():
        account.held, account.outflow_used = 0, 0
    if not senders:
        return
    for account_id, held in held_by([key for key, a in senders.items() if a.has_holds]).items():
        senders[account_id].held = held
    limited = [key for key, account in senders.items() if account.daily_outflow_limit is not None]
    if limits and limited:
        for account_id, used in outflow_used(limited).items():
            senders[account_id].outflow_used = used


def _moves_post(posting: Posting, record, moves: list[_Move], writes: Writes, draft):
    """The movement's writes, after its record's: one round trip on PostgreSQL for a plain
    transfer or a batch. A reversal or a capture first sends what is written so far, since its
    own statement reads it (the capture's trigger checks the CAPTURE transaction). Returns the
    transaction rows."""
    if posting.batch_model is None:
        rows = [record]
    elif draft is not None:
        rows = draft.rows
        writes.extend(draft.writes)
    else:
        rows = _items_insert(posting, record.id, moves, writes)
    if posting.reverses is not None:
        writes.flush()
        _mark_reversed(posting.reverses)
    if posting.captures is not None:
        writes.flush()
        # Before the balances move: the hold stops counting as held when it is CAPTURED.
        hold_mark_captured(posting.captures, record, moves[0].amount)
    _legs_post(writes, rows, moves)
    if draft is None:
        _outbox(posting, rows, moves, writes)
    if posting.captures is not None:
        writes.flush()
        _hold_outbox(posting, posting.captures, "hold.captured")
    return rows


def _items_insert(posting: Posting, batch_id: uuid.UUID, moves: list[_Move], writes: Writes):
    """A batch's transaction rows, in item order, added to `writes`."""
    rows = [_transaction_row(posting, move, None, None) for move in moves]
    for index, row in enumerate(rows):
        row.batch_id, row.batch_index = batch_id, index
    _rows_insert(writes, rows)
    return rows


@dataclass(frozen=True)
class _Draft:
    """A batch's item rows and their events, written (not yet sent) before its accounts are
    locked; `written_at` is the earliest time stamped on a row."""

    batch_id: uuid.UUID
    rows: list
    writes: Writes
    written_at: datetime


def _draft(posting: Posting, db, ids: list[uuid.UUID]) -> _Draft | None:
    """A batch's items and events, built from an unlocked read of its accounts (one round trip
    more, outside the locks: on PostgreSQL's bench, building them was a third of the time a
    batch held its locks, which every batch crossing the same accounts waits for). None when a
    leg cannot be resolved: the locked read then refuses it, in item order."""
    try:
        moves = _moves(posting, _accounts_read(db, ids, lock=False))
    except ApplicationError:
        return None
    batch_id, writes = new_id(), Writes(db)
    rows = _items_insert(posting, batch_id, moves, writes)
    _outbox(posting, rows, moves, writes)
    return _Draft(batch_id=batch_id, rows=rows, writes=writes, written_at=rows[0].created_at)


def _draft_in_time(draft: _Draft, moves: list[_Move]) -> bool:
    """Whether the draft's rows are at or after every change to their accounts, as read under
    the locks: a balance "as of" a time reads the entries in their time order, which must be
    the order the locks gave them. An account changed by a posting stamped after the draft
    (it took the locks first) fails this, and the rows are built again under the locks."""
    latest = max(account.updated_at for move in moves for account in (move.sender, move.receiver))
    return latest <= draft.written_at


def _outbox(
    posting: Posting, rows: list, moves: list[_Move], writes: Writes, *, refused: bool = False
) -> None:
    """The posting's events, rows in this same database transaction, in one INSERT: they exist
    if and only if it committed, so no crash can lose one, and they cost no second commit.
    Notices, webhooks and the public log follow from them after the commit (`manage.py
    events_worker`); a failed side effect never undoes a movement. A movement is seen by the
    owners of both its accounts, a recorded refusal by the sender's only (nothing reached the
    receiver); a reversal also re-renders the original, now REVERSED. A refused batch records
    no transaction, so it has no event."""
    if posting.render is not None:
        events_insert(events=_events(posting, rows, moves, refused=refused), writes=writes)


def _events(posting: Posting, rows: list, moves: list[_Move], *, refused: bool) -> list[NewEvent]:
    """The posting's events (`_outbox`), for the locked path and the one statement alike."""
    owners = [frozenset({move.sender.user_id, move.receiver.user_id}) for move in moves]
    if refused:
        kind, audiences = "transaction.failed", [frozenset({moves[0].sender.user_id})]
    else:
        kind, audiences = "transaction.completed", owners
    events = [
        NewEvent(kind, posting.render(row), audience)
        for row, audience in zip(rows, audiences, strict=True)
    ]
    if posting.reverses is not None and not refused:
        events.append(NewEvent("transaction.reversed", posting.render(posting.reverses), owners[0]))
    return events


def _hold_outbox(posting: Posting, hold: Hold, kind: str) -> None:
    if posting.render_hold is not None:
        hold_event(hold=hold, kind=kind, render=posting.render_hold)


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


def _refusal(sender: _Account, receiver: _Account, amount: int) -> type[TransferRefused] | None:
    """Whether this leg may move, on the locked rows as the earlier legs left them: a user
    account spends at most what is available (balance - held + overdraft limit)."""
    if sender.status != Account.Status.ACTIVE or receiver.status != Account.Status.ACTIVE:
        return AccountNotActive
    if sender.currency != receiver.currency:
        return CurrencyMismatch
    available = sender.balance - sender.held + sender.overdraft_limit
    if not sender.is_funding and available < amount:
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
    original.status, original.updated_at = original.Status.REVERSED, timezone.now()
    type(original)._default_manager.filter(id=original.id).update(
        status=original.status, updated_at=original.updated_at
    )


def _transaction_row(posting, move: _Move, outcome: _Outcome | None, fingerprint):
    """A leg's transaction row: COMPLETED, or FAILED with the refusal's code. A batch's items
    carry no key or fingerprint of their own (the batch row holds them)."""
    Status = posting.model.Status
    refused = outcome and outcome.refused
    in_batch = posting.batch_model is not None
    return posting.model(
        from_account_id=move.sender.id,
        to_account_id=move.receiver.id,
        amount=move.amount,
        currency=move.sender.currency,
        kind=posting.kind,
        initiator=posting.initiator,
        idempotency_key=None if in_batch else posting.idempotency_key,
        fingerprint="" if in_batch else fingerprint,
        reversal_of=posting.reverses,
        status=Status.FAILED if refused else Status.COMPLETED,
        failure_code=refused.code if refused else "",
        failure_message=refused.message if refused else "",
        failure_remaining=outcome and outcome.remaining,
        hold=posting.captures,
        **posting.fields,
        **move.leg.fields,
    )


def _hold_row(posting, move: _Move, outcome: _Outcome, fingerprint: str) -> Hold:
    """A hold: PENDING, or FAILED with the refusal's code (kept for its key's replay)."""
    refused = outcome.refused
    return Hold(
        from_account_id=move.sender.id,
        to_account_id=move.receiver.id,
        amount=move.amount,
        currency=move.sender.currency,
        status=Hold.Status.FAILED if refused else Hold.Status.PENDING,
        initiator=posting.initiator,
        idempotency_key=posting.idempotency_key,
        fingerprint=fingerprint,
        failure_code=refused.code if refused else "",
        failure_message=refused.message if refused else "",
        failure_remaining=outcome.remaining,
        **posting.fields,
        **move.leg.fields,
    )


def _batch_row(posting, fingerprint: str, outcome: _Outcome, draft) -> models.Model:
    Status = posting.batch_model.Status
    refused, index = outcome.refused, outcome.index
    return posting.batch_model(
        id=draft.batch_id if draft is not None else new_id(),
        initiator=posting.initiator,
        kind=posting.kind,
        idempotency_key=posting.idempotency_key,
        fingerprint=fingerprint,
        size=len(posting.legs),
        status=Status.FAILED if refused else Status.COMPLETED,
        failure_code=refused.code if refused else "",
        failure_message=refused.message if refused else "",
        failure_index=index if refused else None,
        failure_remaining=outcome.remaining,
    )


def _fingerprint(posting: Posting, moves: list[_Move]) -> str:
    """What "the same request" means for the key: each leg's accounts, amount in minor units
    (`10` and `"10.00"` are the same) and fields; a batch digests its legs in order."""
    legs = [_leg_fingerprint(move) for move in moves]
    if posting.batch_model is None:
        return legs[0]
    return "batch:" + hashlib.sha256("\n".join(legs).encode()).hexdigest()


def _leg_fingerprint(move: _Move) -> str:
    plain = f"{move.sender.id}:{move.receiver.id}:{move.amount}"
    if not move.leg.fields:
        # A leg without fields keeps the fingerprint rows were written with before fields.
        return plain
    fields = json.dumps(move.leg.fields, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(f"{plain}\n{fields}".encode()).hexdigest()


def _replay(posting: Posting, *, fingerprint: str, moves: list[_Move]) -> Posted | None:
    """The earlier outcome for this key, or None when the key is in fact unused."""
    holder = posting.batch_model or (Hold if posting.reserves else posting.model)
    existing = holder._default_manager.filter(
        initiator=posting.initiator, idempotency_key=posting.idempotency_key
    ).first()
    if existing is None:
        return None
    if existing.fingerprint != fingerprint:
        raise IdempotencyConflict()
    if existing.status == existing.Status.FAILED:
        raise _refusal_of(posting, existing, moves)
    return _posted(posting, existing, replayed=True)


# --- a plain transfer in one statement (PostgreSQL) -----------------------------------------


@dataclass(frozen=True, slots=True)
class _Identity:
    """What never changes on an account (`accounts.triggers.IDENTITY`): its owner and its
    currency, kept from every row the engine reads."""

    id: uuid.UUID
    user_id: uuid.UUID
    currency: str


_IDENTITIES: dict[uuid.UUID, _Identity] = {}
# About 6 MB per worker when full; then emptied, to be filled again by the next reads.
_IDENTITIES_KEPT = 20_000


def _identity_keep(account: _Account) -> None:
    if account.id not in _IDENTITIES:
        if len(_IDENTITIES) >= _IDENTITIES_KEPT:
            _IDENTITIES.clear()
        _IDENTITIES[account.id] = _Identity(account.id, account.user_id, account.currency)


def _direct_applies(posting: Posting, db) -> bool:
    return (
        db.vendor == "postgresql"
        and len(posting.legs) == 1
        and posting.batch_model is None
        and not posting.reserves
        and posting.reverses is None
        and posting.captures is None
        and posting.render is not None
    )


def _post_direct(posting: Posting, db) -> Posted | None:
    """A one-leg movement as one statement, its own database transaction: lock both rows, and
    only if the movement may go through as prepared, write it (the transaction row, its legs,
    both balances, its event). One round trip instead of four (BEGIN, the locked read, the
    writes, COMMIT), and no Python between the lock and the writes (README, Benchmarks). The
    row and its event are built beforehand from the accounts' owners and currencies as read
    before (`_IDENTITIES`), which never change; the statement checks them on the locked rows
    all the same.

    None (nothing written) when the statement cannot decide alone: an account not read before,
    a movement the checks would refuse (the locked path records the refusal), a payer with
    holds or a daily limit, or a key already used (the locked path replays it). The caller then
    posts it the usual way; the statement wrote nothing. When the checks pass but an entry of
    either account is later than the row's time (a posting stamped later took the locks first;
    entries keep the order of the locks: `_draft_in_time`), the row is stamped again and the
    statement tried once more."""
    leg = posting.legs[0]
    sender, receiver = _IDENTITIES.get(leg.from_id), _IDENTITIES.get(leg.to_id)
    if sender is None or receiver is None or sender.id == receiver.id:
        return None
    if sender.currency != receiver.currency:
        return None
    if posting.owner_id is not None and sender.user_id != posting.owner_id:
        return None
    try:
        amount = _minor_units(leg.amount, sender.currency)
    except ApplicationError:
        return None
    move = _Move(leg, sender, receiver, amount)
    record = _transaction_row(
        posting, move, None, posting.fingerprint or _fingerprint(posting, [move])
    )
    for _attempt in range(2):
        # Inside a caller's database transaction, a savepoint keeps a used key from aborting it.
        atomic = transaction.atomic(using=db.alias) if db.in_atomic_block else nullcontext()
        try:
            with atomic, db.cursor() as cursor:
                cursor.execute(
                    _direct_statement(type(record)), _direct_params(posting, db, move, record)
                )
                written, latest = cursor.fetchone()
        except IntegrityError:
            return None
        if written:
            record._state.adding, record._state.db = False, db.alias
            return Posted(transaction=record, replayed=False)
        if latest is None or latest >= timezone.now():
            return None
        # Only a posting stamped after this row took the locks first: stamped again now, the
        # row follows it (its lock is released, its time is past), so one more try.
    return None


def _direct_params(posting: Posting, db, move: _Move, record) -> list:
    """The statement's parameters, in its order (`_direct_statement`)."""
    sender, receiver = move.sender, move.receiver
    values = _row_values(record, db)  # first: it stamps the times the legs and event carry
    sender_id, receiver_id = _db_id(db, sender.id), _db_id(db, receiver.id)
    (event,) = _events(posting, [record], [move], refused=False)
    return [
        [sender_id, receiver_id],
        sender_id,
        receiver_id,
        move.amount,
        db.ops.adapt_datetimefield_value(record.created_at),
        record._meta.pk.get_db_prep_value(record.id, db),
        sender.currency,
        _db_id(db, sender.user_id),
        _db_id(db, receiver.user_id),
        *values,
        *events_rows(events=[event], db=db)[0],
    ]


@cache
def _direct_statement(model: type[models.Model]) -> str:
    """The locked read, the checks of `_refusal` that a movement passes as prepared
    (`checked`, one row or none), the row's time after every entry of both accounts (`ok`),
    and the writes of `_moves_post`, each conditioned on both. Answers whether it wrote, and
    the accounts' latest change when only the time stood in the way. Each value is sent once
    (`p`) and the writes read it from `ok`: psycopg keeps the parsed text of a statement with
    at most 50 parameters only, and parses it again on every call above that."""
    quote = connection.ops.quote_name
    accounts, active = Account._meta.db_table, Account.Status.ACTIVE
    columns = ", ".join(quote(field.column) for field in _LOCKED_FIELDS)

    def insert(table_model, fields, values: str) -> str:
        names = ", ".join(quote(field.column) for field in fields)
        return f"INSERT INTO {quote(table_model._meta.db_table)} ({names}) SELECT {values} FROM ok"

    def typed(fields) -> str:
        return ", ".join(f"%s::{cast_type(field, connection)}" for field in fields)

    record_fields = model._meta.concrete_fields
    leg = "ok.{}, ok.tx, '{}', ok.amount, ok.{}_after, ok.stamp"
    legs = insert(LedgerEntry, _LEG_FIELDS, leg.format("sender", LedgerEntry.Type.DEBIT, "sender"))
    legs += " UNION ALL SELECT " + leg.format("receiver", LedgerEntry.Type.CREDIT, "receiver")
    return (
        f"WITH locked AS (SELECT {columns} FROM {accounts}"
        f" WHERE {_ID} = ANY(%s) ORDER BY {_ID} FOR UPDATE),"
        " checked AS (SELECT p.*, s.balance - p.amount AS sender_after,"
        " r.balance + p.amount AS receiver_after, greatest(s.updated_at, r.updated_at) AS latest"
        " FROM (SELECT %s::uuid AS sender, %s::uuid AS receiver, %s::bigint AS amount,"
        " %s::timestamptz AS stamp, %s::uuid AS tx) p, locked s, locked r"
        " WHERE s.id = p.sender AND r.id = p.receiver"
        f" AND s.status = '{active}' AND r.status = '{active}'"
        " AND s.currency = %s AND r.currency = s.currency AND s.user_id = %s AND r.user_id = %s"
        " AND NOT s.has_holds AND s.daily_outflow_limit IS NULL"
        " AND (s.is_funding OR s.balance - p.amount + s.overdraft_limit >= 0)),"
        " ok AS (SELECT * FROM checked WHERE latest <= stamp),"
        f" w0 AS ({insert(model, record_fields, typed(record_fields))}),"
        f" w1 AS ({legs} FROM ok),"
        f" w2 AS (UPDATE {accounts} SET {_BALANCE} = {accounts}.{_BALANCE}"
        f" + CASE WHEN {accounts}.{_ID} = ok.sender THEN -ok.amount ELSE ok.amount END,"
        f" {_UPDATED_AT} = ok.stamp FROM ok WHERE {accounts}.{_ID} IN (ok.sender, ok.receiver)),"
        f" w3 AS ({insert(Event, event_fields(), typed(event_fields()))})"
        " SELECT (SELECT count(*) FROM ok), (SELECT latest FROM checked)"
    )


# --- the fixed statements ------------------------------------------------------------------


def _columns(model, names) -> list[str]:
    return [connection.ops.quote_name(model._meta.get_field(name).column) for name in names]


def _db_id(db, value) -> Any:
    return Account._meta.pk.get_db_prep_value(value, db)


# In `_Account`'s field order.
_LOCKED_FIELDS = [
    Account._meta.get_field(name)
    for name in (
        "id",
        "user",
        "currency",
        "balance",
        "overdraft_limit",
        "daily_outflow_limit",
        "status",
        "is_funding",
        "has_holds",
        "updated_at",
    )
]
# The database driver may answer a UUID column as text (SQLite): those values are converted.
_LOCKED_UUIDS = [
    isinstance(field, models.UUIDField) or isinstance(field.target_field, models.UUIDField)
    if field.is_relation
    else isinstance(field, models.UUIDField)
    for field in _LOCKED_FIELDS
]
_ID = connection.ops.quote_name(Account._meta.pk.column)


@cache
def _accounts_statement(vendor: str, lock: bool, count: int) -> str:
    """On PostgreSQL the ids go as one array: one text, so one prepared statement, for any
    number of accounts."""
    columns = ", ".join(connection.ops.quote_name(field.column) for field in _LOCKED_FIELDS)
    ids = "= ANY(%s)" if vendor == "postgresql" else f"IN ({', '.join(['%s'] * count)})"
    return (
        f"SELECT {columns} FROM {Account._meta.db_table}"
        f" WHERE {_ID} {ids} ORDER BY {_ID}{' FOR UPDATE' if lock else ''}"
    )


def _accounts_read(db, account_ids: list[uuid.UUID], *, lock: bool) -> dict[uuid.UUID, _Account]:
    """These account rows that exist, locked in id order when `lock`."""
    lock = lock and db.features.has_select_for_update
    params = [_db_id(db, key) for key in account_ids]
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute(_accounts_statement(db.vendor, lock, 0), [params])
        else:
            cursor.execute(_accounts_statement(db.vendor, lock, len(params)), params)
        rows = cursor.fetchall()
    accounts = {}
    for row in rows:
        values = [
            uuid.UUID(value) if is_uuid and not isinstance(value, uuid.UUID) else value
            for is_uuid, value in zip(_LOCKED_UUIDS, row, strict=True)
        ]
        account = _Account(*values)
        # SQLite answers 0/1, and its times without their zone (UTC, as Django writes them)
        account.is_funding, account.has_holds = bool(account.is_funding), bool(account.has_holds)
        if timezone.is_naive(account.updated_at):
            account.updated_at = account.updated_at.replace(tzinfo=UTC)
        accounts[account.id] = account
        _identity_keep(account)
    return accounts


def _rows_insert(writes: Writes, instances: list[models.Model]) -> None:
    """INSERT the rows of one model in one statement, each as `save(force_insert=True)` would
    write it, minus the query building; the same `IntegrityError` when a constraint refuses
    one."""
    db, fields = writes.db, type(instances[0])._meta.concrete_fields
    rows = [_row_values(instance, db) for instance in instances]
    for instance in instances:
        instance._state.adding = False
        instance._state.db = db.alias
    writes.insert(type(instances[0]), fields, rows)


def _row_values(instance: models.Model, db) -> list:
    """A new row's database values in its model's column order, as `save(force_insert=True)`
    would write them (pre_save stamps its times)."""
    return [
        field.get_db_prep_save(field.pre_save(instance, True), db)
        for field in type(instance)._meta.concrete_fields
    ]


_LEG_FIELDS = tuple(
    LedgerEntry._meta.get_field(name)
    for name in ("account", "transaction", "type", "amount", "balance_after", "created_at")
)
_BALANCE, _UPDATED_AT = _columns(Account, ["balance", "updated_at"])


@cache
def _balances_statement(vendor: str, count: int) -> str:
    """Relative, as the yardstick does: even a caller that forgot the row lock could not lose
    an update; the CHECK constraint still refuses a user balance below zero. On PostgreSQL the
    changes of more than one transfer's two accounts go as two arrays, one statement for any
    number of accounts."""
    table = Account._meta.db_table
    if vendor == "postgresql" and count > 2:
        return (
            f"UPDATE {table} SET {_BALANCE} = {table}.{_BALANCE} + c.change, {_UPDATED_AT} = %s"
            f" FROM unnest(%b::uuid[], %b::bigint[]) AS c(id, change) WHERE {table}.{_ID} = c.id"
        )
    cases = " ".join([f"WHEN {_ID} = %s THEN %s"] * count)
    return (
        f"UPDATE {table} SET {_BALANCE} = {_BALANCE} + CASE {cases} END, {_UPDATED_AT} = %s"
        f" WHERE {_ID} IN ({', '.join(['%s'] * count)})"
    )


def _legs_post(writes: Writes, rows: list[models.Model], moves: list[_Move]) -> None:
    """Per transaction, one DEBIT on the sender and one CREDIT on the receiver, each with the
    balance after it; then every touched account's cached balance moved by its net change.
    The legs carry their transaction's own time, so a balance "as of" a transaction's
    createdAt includes that transaction."""
    db, entries, changes = writes.db, [], {}
    debit, credit = LedgerEntry.Type.DEBIT, LedgerEntry.Type.CREDIT
    for row, move in zip(rows, moves, strict=True):
        row_id = row._meta.pk.get_db_prep_value(row.id, db)
        at = db.ops.adapt_datetimefield_value(row.created_at)
        sender_id, receiver_id = _db_id(db, move.sender.id), _db_id(db, move.receiver.id)
        entries.append([sender_id, row_id, debit, move.amount, move.sender_after, at])
        entries.append([receiver_id, row_id, credit, move.amount, move.receiver_after, at])
        changes[sender_id] = changes.get(sender_id, 0) - move.amount
        changes[receiver_id] = changes.get(receiver_id, 0) + move.amount
    writes.insert(LedgerEntry, _LEG_FIELDS, entries)
    now = rows[-1].created_at
    at = db.ops.adapt_datetimefield_value(now)
    sql = _balances_statement(db.vendor, len(changes))
    if db.vendor == "postgresql" and len(changes) > 2:
        writes.add(sql, [at, list(changes), list(changes.values())])
    else:
        cases = [value for account_id, change in changes.items() for value in (account_id, change)]
        writes.add(sql, [*cases, at, *changes])
    for move in moves:
        move.sender.updated_at = move.receiver.updated_at = now

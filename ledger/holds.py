"""The engine's side of holds (API.md "Holds"): the database's clock as the triggers read it,
what accounts hold, the locked re-check and the marking of a capture (called by the posting
engine inside the capture's transaction), and the changes outside a posting, void and expiry,
each with its `hold.*` event in the same database transaction.

What a payer holds is never cached: it is the sum of its PENDING holds whose `expires_at` is
still ahead by the database's clock, read on the locked account row. So a hold stops counting at
its expiry with no sweep, and the trigger that guards `balance - held` computes the same sum
(ledger.triggers.HOLDS). A cached column would need a sweep of expired holds under every
payer's lock before every check to stay right at the boundary."""

import uuid
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import Account
from bankledger.events.services import events_record
from bankledger.events.types import NewEvent
from ledger.exceptions import HoldExpired, HoldNotPending, IdempotencyConflict, TransferRefused
from ledger.models import Hold
from ledger.retrying import retrying
from ledger.triggers import NOW


def now_sql() -> str:
    """The database's clock as the hold triggers read it, for a statement with parameters."""
    return NOW[connection.vendor].replace("%", "%%")


def held_by(account_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """What each account holds now (minor units); none when it holds nothing."""
    if not account_ids:
        return {}
    ids = [Account._meta.pk.get_db_prep_value(key, connection) for key in account_ids]
    sql = (
        f"SELECT from_account_id, SUM(amount) FROM {Hold._meta.db_table}"  # noqa: S608
        f" WHERE from_account_id IN ({', '.join(['%s'] * len(ids))})"
        f" AND status = 'PENDING' AND expires_at > {now_sql()} GROUP BY from_account_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        return {uuid.UUID(str(key)): int(held) for key, held in cursor.fetchall()}


def hold_refusal(hold: Hold | None) -> type[TransferRefused] | None:
    """Re-read the hold under a row lock: only a PENDING hold before its expiry (by the
    database's clock, as the triggers read it) can be captured."""
    if hold is None:
        return None
    sql = (
        f"SELECT status, expires_at > {now_sql()} FROM {Hold._meta.db_table}"  # noqa: S608
        f" WHERE id = %s{' FOR UPDATE' if connection.features.has_select_for_update else ''}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [Hold._meta.pk.get_db_prep_value(hold.id, connection)])
        status, live = cursor.fetchone()
    if status != Hold.Status.PENDING:
        return HoldNotPending
    if not live:
        return HoldExpired
    return None


def hold_mark_captured(hold: Hold, record: models.Model, amount: int) -> None:
    """CAPTURED, with its transaction, in one conditional statement the triggers agree with; a
    hold that reached its expiry since it was checked (the same instant on PostgreSQL, a few
    microseconds on SQLite) is refused unrecorded, and nothing moves."""
    now = timezone.now()
    updated = Hold.objects.filter(
        id=hold.id,
        status=Hold.Status.PENDING,
        expires_at__gt=RawSQL(now_sql(), []),  # noqa: S611 (constant)
    ).update(
        status=Hold.Status.CAPTURED, transaction=record, captured_amount=amount, updated_at=now
    )
    if not updated:
        raise HoldExpired()
    hold.status, hold.transaction, hold.captured_amount, hold.updated_at = (
        Hold.Status.CAPTURED,
        record,
        amount,
        now,
    )


def hold_void(
    *, hold_id: uuid.UUID, actor: Any, idempotency_key: str, render: Callable[[Hold], dict]
) -> tuple[Hold, bool]:
    """Mark a PENDING hold before its expiry VOIDED (it stops counting as held), with who did
    it under which key; the same actor and key on a voided hold is a replay (True). The row
    lock and the conditional UPDATE decide a race with a capture or an expiry."""
    return retrying(lambda: _hold_void_once(hold_id, actor, idempotency_key, render))


def _hold_void_once(hold_id, actor, idempotency_key, render) -> tuple[Hold, bool]:
    with transaction.atomic():
        hold = Hold.objects.select_for_update().get(id=hold_id)
        if hold.status == Hold.Status.VOIDED and (hold.voided_by_id, hold.void_idempotency_key) == (
            actor.id,
            idempotency_key,
        ):
            return hold, True
        refusal = hold_refusal(hold)
        if refusal is not None:
            raise refusal()
        now = timezone.now()
        try:
            with transaction.atomic():
                updated = Hold.objects.filter(
                    id=hold.id,
                    status=Hold.Status.PENDING,
                    expires_at__gt=RawSQL(now_sql(), []),  # noqa: S611 (constant)
                ).update(
                    status=Hold.Status.VOIDED,
                    voided_by=actor,
                    void_idempotency_key=idempotency_key,
                    updated_at=now,
                )
        except IntegrityError:
            raise IdempotencyConflict() from None  # the key voided another hold
        if not updated:
            raise HoldExpired()
        hold.refresh_from_db()
        hold_event(hold=hold, kind="hold.voided", render=render)
    return hold, False


def holds_expire(*, render: Callable[[Hold], dict], limit: int = 500) -> int:
    """Mark up to `limit` PENDING holds past their expiry EXPIRED, each with its `hold.expired`
    event; returns how many. For display and events only: an expired hold stopped counting as
    held at its `expiresAt` already. A capture that holds a row's lock first wins, and the row
    is then no longer PENDING."""
    return retrying(lambda: _holds_expire_once(render, limit))


def _holds_expire_once(render, limit: int) -> int:
    with transaction.atomic():
        due = list(
            Hold.objects.select_for_update()
            .filter(status=Hold.Status.PENDING, expires_at__lte=RawSQL(now_sql(), []))  # noqa: S611
            .order_by("expires_at", "id")[:limit]
        )
        if not due:
            return 0
        now = timezone.now()
        Hold.objects.filter(id__in=[hold.id for hold in due]).update(
            status=Hold.Status.EXPIRED, updated_at=now
        )
        for hold in due:
            hold.status, hold.updated_at = Hold.Status.EXPIRED, now
            hold_event(hold=hold, kind="hold.expired", render=render)
    return len(due)


def hold_event(*, hold: Hold, kind: str, render: Callable[[Hold], dict]) -> None:
    """A `hold.*` event, seen by the owners of both accounts."""
    owners = Account.objects.filter(id__in=[hold.from_account_id, hold.to_account_id])
    audience = frozenset(owners.values_list("user_id", flat=True))
    events_record(events=[NewEvent(kind, render(hold), audience)])

"""Holds (API.md "Holds"): reserve, capture, void and expire, each described here and written
by the posting engine (`ledger.posting`), which owns every statement of the money path."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bankledger.core.money import currency_exponent, to_minor_units
from ledger.exceptions import InvalidAmount
from ledger.holds import hold_void, holds_expire
from ledger.models import Hold
from ledger.posting import Leg, Posted, Posting, post
from transactions.exceptions import NotAllowed, SameAccount
from transactions.hold_selectors import hold_get
from transactions.models import Transaction
from transactions.serializers import HOLD_OUTPUT, TRANSACTION_OUTPUT
from transactions.services import account_id_parse, labels_of
from users.models import User

DEFAULT_EXPIRES_IN = 7 * 24 * 3600


def hold_create(
    *,
    initiator: User,
    from_account_id: str,
    to_account_id: str,
    amount: Decimal,
    idempotency_key: str,
    expires_in: int = DEFAULT_EXPIRES_IN,
    reference: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Posted:
    """Reserve `amount` (major units) on the caller's account for another account until
    `expires_in` seconds from now, checked like a transfer on the locked rows (both ACTIVE, one
    currency, at most what is available, within the daily outflow limit); a refusal is recorded
    as a FAILED hold for its key's replay."""
    from_id, to_id = account_id_parse(from_account_id), account_id_parse(to_account_id)
    if from_id == to_id:
        raise SameAccount()
    fields = {**labels_of(reference, metadata), "expires_in": expires_in}
    return post(
        Posting(
            model=Transaction,
            kind="HOLD",  # no transaction row: the Hold row is the record
            initiator=initiator,
            idempotency_key=idempotency_key,
            legs=(Leg(from_id=from_id, to_id=to_id, amount=amount, fields=fields),),
            owner_id=initiator.id,
            reserves=True,
            fields={"expires_at": timezone.now() + timedelta(seconds=expires_in)},
            render_hold=HOLD_OUTPUT.to_representation,
        )
    )


def hold_capture(
    *, initiator: User, hold_id: str, idempotency_key: str, amount: Decimal | None = None
) -> Posted:
    """Post a PENDING hold, whole or in part (once), as a COMPLETED CAPTURE transaction from
    payer to payee linked to it; the rest is released. The owner of either account or a system
    user may; anyone else does not see the hold (404). Refusals (`hold_not_pending`,
    `hold_expired`, `account_not_active`, ...) are recorded as a FAILED CAPTURE transaction."""
    hold = hold_get(user=initiator, hold_id=hold_id)
    minor = (
        hold.amount if amount is None else to_minor_units(amount, currency_exponent(hold.currency))
    )
    if minor is None or not 0 < minor <= hold.amount:
        raise InvalidAmount("The amount must be more than 0 and at most the hold's amount.")
    return post(
        Posting(
            model=Transaction,
            kind=Transaction.Kind.CAPTURE,
            initiator=initiator,
            idempotency_key=idempotency_key,
            legs=(Leg(from_id=hold.from_account_id, to_id=hold.to_account_id, amount=minor),),
            captures=hold,
            fields=labels_of(hold.reference, hold.metadata),
            fingerprint=f"capture:{hold.id}:{minor}",
            render=TRANSACTION_OUTPUT.to_representation,
            render_hold=HOLD_OUTPUT.to_representation,
        )
    )


def hold_void_by(*, initiator: User, hold_id: str, idempotency_key: str) -> tuple[Hold, bool]:
    """Release a PENDING hold: the payee's owner or a system user (an authorization is given
    to the payee; the payer may not take it back, 403 `not_allowed`). True when replayed."""
    hold = hold_get(user=initiator, hold_id=hold_id)
    if not initiator.is_system and hold.to_account.user_id != initiator.id:
        raise NotAllowed()
    return hold_void(
        hold_id=hold.id,
        actor=initiator,
        idempotency_key=idempotency_key,
        render=HOLD_OUTPUT.to_representation,
    )


def holds_expire_due(*, limit: int = 500) -> int:
    """Mark the holds past their expiry EXPIRED, with their events (`manage.py expire_holds`
    and the events worker); returns how many."""
    return holds_expire(render=HOLD_OUTPUT.to_representation, limit=limit)

"""The transfer service: every movement of money goes through `_post`, in one database
transaction, with both account rows locked in id order."""

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import accounts_lock
from accounts.services import funding_account_get_or_create
from bankledger.core.db import row_insert
from bankledger.core.errors import ServiceUnavailable
from bankledger.core.ids import parse_id
from bankledger.core.money import currency_exponent, to_minor_units
from ledger.services import entries_post
from transactions.exceptions import (
    REFUSALS,
    AccountNotActive,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAccounts,
    InvalidAmount,
    NotAccountOwner,
    NotReversible,
    NotSystemUser,
    SameAccount,
    TransactionNotFound,
    TransferRefused,
)
from transactions.models import Transaction
from transactions.tasks import transfer_emails_send
from users.models import User

logger = logging.getLogger(__name__)

# Deadlocks and serialization failures are retried this many times in all, then 503.
MAX_ATTEMPTS = 3
_RETRYABLE_SQLSTATES = {"40001", "40P01"}


@dataclass(frozen=True)
class TransferResult:
    transaction: Transaction
    replayed: bool


def _account_id(value: str) -> uuid.UUID:
    return parse_id(value, not_found=InvalidAccounts)


def _minor_units(amount: Decimal, currency: str) -> int:
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


def _is_retryable(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in _RETRYABLE_SQLSTATES or "database is locked" in str(exc)


def _replay(*, initiator: User, idempotency_key: str, fingerprint: str) -> TransferResult | None:
    """The earlier outcome for this key, or None when the key is in fact unused."""
    existing = Transaction.objects.filter(
        initiator=initiator, idempotency_key=idempotency_key
    ).first()
    if existing is None:
        return None
    if existing.fingerprint != fingerprint:
        raise IdempotencyConflict()
    if existing.status == Transaction.Status.FAILED:
        raise REFUSALS[existing.failure_code](existing.failure_message, transaction=existing)
    return TransferResult(transaction=existing, replayed=True)


def _reversal_refusal(original: Transaction) -> type[TransferRefused] | None:
    """Re-read the original under a row lock: only a COMPLETED non-reversal can be reversed."""
    current = Transaction.objects.select_for_update().only("status", "kind").get(id=original.id)
    if current.status != Transaction.Status.COMPLETED or current.kind == Transaction.Kind.REVERSAL:
        return NotReversible
    return None


def _post_once(
    *,
    initiator,
    sender_id,
    receiver_id,
    amount: Decimal,
    idempotency_key: str,
    kind: str,
    reversing: Transaction | None = None,
    reason: str = "",
) -> TransferResult:
    """One attempt at a movement of money. `reversing` makes it the reversal of that
    transaction: a system user moves money it does not own, the fingerprint is the original,
    and the original is marked REVERSED in the same database transaction."""
    record = None
    try:
        with transaction.atomic():
            accounts = accounts_lock(account_ids=[sender_id, receiver_id])
            if len(accounts) != 2:
                raise InvalidAccounts()
            sender, receiver = accounts[sender_id], accounts[receiver_id]
            if reversing is None and sender.user_id != initiator.id:
                raise NotAccountOwner()
            minor = _minor_units(amount, sender.currency)
            refusal = (reversing and _reversal_refusal(reversing)) or _refusal(
                sender, receiver, minor
            )
            record = Transaction(
                from_account=sender,
                to_account=receiver,
                amount=minor,
                currency=sender.currency,
                kind=kind,
                initiator=initiator,
                idempotency_key=idempotency_key,
                fingerprint=(
                    f"reversal:{reversing.id}"
                    if reversing
                    else f"{sender_id}:{receiver_id}:{minor}"
                ),
                reversal_of=reversing,
                reason=reason,
                status=Transaction.Status.FAILED if refusal else Transaction.Status.COMPLETED,
                failure_code=refusal.code if refusal else "",
                failure_message=refusal.message if refusal else "",
            )
            row_insert(record)
            if refusal is None:
                entries_post(transaction=record, debit=sender, credit=receiver, amount=minor)
                # The notice task is a row in this same database transaction (an outbox):
                # it exists if and only if the transfer committed, so no crash between the
                # commit and an enqueue can lose it, and it costs no second commit. Only the
                # worker sends, after the commit; a failed email never undoes a transfer.
                transfer_emails_send.enqueue(str(record.id))
                if reversing is not None:
                    Transaction.objects.filter(id=reversing.id).update(
                        status=Transaction.Status.REVERSED, updated_at=timezone.now()
                    )
    except IntegrityError:
        # The unique (initiator, key) index, not a prior read, decides who won a race.
        replay = record and _replay(
            initiator=initiator, idempotency_key=idempotency_key, fingerprint=record.fingerprint
        )
        if replay is None:
            raise
        return replay
    if refusal is not None:
        raise refusal(transaction=record)
    return TransferResult(transaction=record, replayed=False)


def _post(**kwargs) -> TransferResult:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return _post_once(**kwargs)
        except OperationalError as exc:
            if not _is_retryable(exc):
                raise
            logger.warning("transfer attempt %d of %d failed: %s", attempt, MAX_ATTEMPTS, exc)
    raise ServiceUnavailable()


def transfer_create(
    *,
    initiator: User,
    from_account_id: str,
    to_account_id: str,
    amount: Decimal,
    idempotency_key: str,
) -> TransferResult:
    """Move `amount` (major units, exact) from the caller's account to another account."""
    sender_id, receiver_id = _account_id(from_account_id), _account_id(to_account_id)
    if sender_id == receiver_id:
        raise SameAccount()
    return _post(
        initiator=initiator,
        sender_id=sender_id,
        receiver_id=receiver_id,
        amount=amount,
        idempotency_key=idempotency_key,
        kind=Transaction.Kind.TRANSFER,
    )


def initial_funds_create(
    *, initiator: User, to_account_id: str, amount: Decimal, idempotency_key: str
) -> TransferResult:
    """A system user seeds an account from its funding account in that account's currency."""
    if not initiator.is_system:
        raise NotSystemUser()
    receiver_id = _account_id(to_account_id)
    receiver = Account.objects.filter(id=receiver_id).only("currency").first()
    if receiver is None:
        raise InvalidAccounts("Invalid toAccount")
    funding = funding_account_get_or_create(system_user=initiator, currency=receiver.currency)
    if funding.id == receiver_id:
        raise SameAccount()
    return _post(
        initiator=initiator,
        sender_id=funding.id,
        receiver_id=receiver_id,
        amount=amount,
        idempotency_key=idempotency_key,
        kind=Transaction.Kind.INITIAL_FUNDS,
    )


def transaction_reverse(
    *, initiator: User, transaction_id: str, idempotency_key: str, reason: str
) -> TransferResult:
    """A system user moves a COMPLETED transaction's amount back, receiver to sender, as a new
    REVERSAL transaction linked to it, with the same locks, checks and idempotency as a
    transfer; the original becomes REVERSED in the same database transaction. Initial funds
    can be reversed too: the money goes back to the funding account it came from."""
    if not initiator.is_system:
        raise NotSystemUser()
    key = parse_id(transaction_id, not_found=TransactionNotFound)
    original = Transaction.objects.filter(id=key).first()
    if original is None:
        raise TransactionNotFound()
    exponent = currency_exponent(original.currency) or 0
    return _post(
        initiator=initiator,
        sender_id=original.to_account_id,
        receiver_id=original.from_account_id,
        amount=Decimal(original.amount).scaleb(-exponent),
        idempotency_key=idempotency_key,
        kind=Transaction.Kind.REVERSAL,
        reversing=original,
        reason=reason,
    )

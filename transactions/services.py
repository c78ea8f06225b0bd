"""The services that describe movements of money — transfers, initial funds, reversals — and
hand them to the posting engine (`ledger.posting`), which owns every statement of the money
path."""

import uuid
from decimal import Decimal

from accounts.models import Account
from accounts.services import funding_account_get_or_create
from bankledger.core.ids import parse_id
from ledger.exceptions import InvalidAccounts
from ledger.posting import Leg, Posted, Posting, post
from transactions.exceptions import NotSystemUser, SameAccount, TransactionNotFound
from transactions.models import Transaction
from transactions.tasks import transfer_emails_send
from users.models import User


def _account_id(value: str) -> uuid.UUID:
    return parse_id(value, not_found=InvalidAccounts)


def _post(*, initiator: User, leg: Leg, idempotency_key: str, kind: str, **extra) -> Posted:
    return post(
        Posting(
            model=Transaction,
            kind=kind,
            initiator=initiator,
            idempotency_key=idempotency_key,
            legs=(leg,),
            notify=transfer_emails_send,
            **extra,
        )
    )


def transfer_create(
    *,
    initiator: User,
    from_account_id: str,
    to_account_id: str,
    amount: Decimal,
    idempotency_key: str,
) -> Posted:
    """Move `amount` (major units, exact) from the caller's account to another account."""
    from_id, to_id = _account_id(from_account_id), _account_id(to_account_id)
    if from_id == to_id:
        raise SameAccount()
    return _post(
        initiator=initiator,
        leg=Leg(from_id=from_id, to_id=to_id, amount=amount),
        idempotency_key=idempotency_key,
        kind=Transaction.Kind.TRANSFER,
        owner_id=initiator.id,
    )


def initial_funds_create(
    *, initiator: User, to_account_id: str, amount: Decimal, idempotency_key: str
) -> Posted:
    """A system user seeds an account from its funding account in that account's currency."""
    if not initiator.is_system:
        raise NotSystemUser()
    to_id = _account_id(to_account_id)
    receiver = Account.objects.filter(id=to_id).only("currency").first()
    if receiver is None:
        raise InvalidAccounts("Invalid toAccount")
    funding = funding_account_get_or_create(system_user=initiator, currency=receiver.currency)
    if funding.id == to_id:
        raise SameAccount()
    return _post(
        initiator=initiator,
        leg=Leg(from_id=funding.id, to_id=to_id, amount=amount),
        idempotency_key=idempotency_key,
        kind=Transaction.Kind.INITIAL_FUNDS,
    )


def transaction_reverse(
    *, initiator: User, transaction_id: str, idempotency_key: str, reason: str
) -> Posted:
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
    return _post(
        initiator=initiator,
        leg=Leg(
            from_id=original.to_account_id, to_id=original.from_account_id, amount=original.amount
        ),
        idempotency_key=idempotency_key,
        kind=Transaction.Kind.REVERSAL,
        reverses=original,
        fields={"reason": reason},
        fingerprint=f"reversal:{original.id}",
    )

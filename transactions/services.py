"""The services that describe movements of money — transfers, initial funds, reversals,
batches — and hand them to the posting engine (`ledger.posting`), which owns every statement of
the money path."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import Account
from accounts.services import funding_account_get_or_create
from bankledger.core.errors import ApplicationError
from bankledger.core.ids import parse_id
from ledger.exceptions import InvalidAccounts
from ledger.posting import Leg, Posted, Posting, post
from transactions.exceptions import NotSystemUser, SameAccount, TransactionNotFound
from transactions.models import Batch, Transaction
from transactions.serializers import TRANSACTION_OUTPUT
from users.models import User


def account_id_parse(value: str) -> uuid.UUID:
    return parse_id(value, not_found=InvalidAccounts)


@dataclass(frozen=True)
class BatchItem:
    """One transfer of a batch. `from_account_id` is empty for initial funds (the funding
    account of the receiver's currency sends)."""

    to_account_id: str
    amount: Decimal
    from_account_id: str = ""
    reference: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


def labels_of(reference: str | None, metadata: dict[str, str] | None) -> dict:
    """The transaction columns a client's labels fill; none when absent, so a request without
    them means what it meant before they existed."""
    labels = {}
    if reference is not None:
        labels["reference"] = reference
    if metadata:
        labels["metadata"] = dict(metadata)
    return labels


def _post(*, initiator: User, legs: tuple[Leg, ...], idempotency_key: str, kind: str, **extra):
    return post(
        Posting(
            model=Transaction,
            kind=kind,
            initiator=initiator,
            idempotency_key=idempotency_key,
            legs=legs,
            render=TRANSACTION_OUTPUT.to_representation,
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
    reference: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Posted:
    """Move `amount` (major units, exact) from the caller's account to another account."""
    from_id, to_id = account_id_parse(from_account_id), account_id_parse(to_account_id)
    if from_id == to_id:
        raise SameAccount()
    leg = Leg(from_id=from_id, to_id=to_id, amount=amount, fields=labels_of(reference, metadata))
    return _post(
        initiator=initiator,
        legs=(leg,),
        idempotency_key=idempotency_key,
        kind=Transaction.Kind.TRANSFER,
        owner_id=initiator.id,
    )


def initial_funds_create(
    *,
    initiator: User,
    to_account_id: str,
    amount: Decimal,
    idempotency_key: str,
    reference: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Posted:
    """A system user seeds an account from its funding account in that account's currency."""
    item = BatchItem(
        to_account_id=to_account_id, amount=amount, reference=reference, metadata=metadata or {}
    )
    return _post(
        initiator=initiator,
        legs=_funding_legs(initiator=initiator, items=[item]),
        idempotency_key=idempotency_key,
        kind=Transaction.Kind.INITIAL_FUNDS,
    )


def _funding_legs(*, initiator: User, items: Sequence[BatchItem]) -> tuple[Leg, ...]:
    """Each item as a leg from the system user's funding account in its receiver's currency
    (opened on first use)."""
    if not initiator.is_system:
        raise NotSystemUser()
    to_ids = [
        _item(index, account_id_parse, item.to_account_id) for index, item in enumerate(items)
    ]
    currencies = dict(Account.objects.filter(id__in=to_ids).values_list("id", "currency"))
    funding = {}
    legs = []
    for index, (item, to_id) in enumerate(zip(items, to_ids, strict=True)):
        if to_id not in currencies:
            _item(index, _raise, InvalidAccounts("Invalid toAccount"))
        currency = currencies[to_id]
        if currency not in funding:
            funding[currency] = funding_account_get_or_create(
                system_user=initiator, currency=currency
            ).id
        if funding[currency] == to_id:
            _item(index, _raise, SameAccount())
        labels = labels_of(item.reference, item.metadata)
        legs.append(Leg(from_id=funding[currency], to_id=to_id, amount=item.amount, fields=labels))
    return tuple(legs)


def _raise(error: Exception):
    raise error


def _item(index: int | None, function, *args):
    """`function(*args)`, with a refusal marked with the batch item's `index` (None: not in a
    batch)."""
    try:
        return function(*args)
    except ApplicationError as error:
        if index is not None:
            error.extra["index"] = index
        raise


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
    leg = Leg(
        from_id=original.to_account_id, to_id=original.from_account_id, amount=original.amount
    )
    return _post(
        initiator=initiator,
        legs=(leg,),
        idempotency_key=idempotency_key,
        kind=Transaction.Kind.REVERSAL,
        reverses=original,
        fields={"reason": reason},
        fingerprint=f"reversal:{original.id}",
    )


def batch_create(*, initiator: User, items: Sequence[BatchItem], idempotency_key: str) -> Posted:
    """Post every transfer of `items` from the caller's accounts, or none, in one database
    transaction: the items are checked in order against the balances the earlier ones leave.
    A refusal is recorded as a FAILED batch with the first refused item's index."""
    legs = []
    for index, item in enumerate(items):
        from_id = _item(index, account_id_parse, item.from_account_id)
        to_id = _item(index, account_id_parse, item.to_account_id)
        if from_id == to_id:
            _item(index, _raise, SameAccount())
        labels = labels_of(item.reference, item.metadata)
        legs.append(Leg(from_id=from_id, to_id=to_id, amount=item.amount, fields=labels))
    return _post(
        initiator=initiator,
        legs=tuple(legs),
        idempotency_key=idempotency_key,
        kind=Transaction.Kind.TRANSFER,
        owner_id=initiator.id,
        batch_model=Batch,
    )


def initial_funds_batch_create(
    *, initiator: User, items: Sequence[BatchItem], idempotency_key: str
) -> Posted:
    """A system user seeds many accounts at once, all or nothing, as one batch."""
    return _post(
        initiator=initiator,
        legs=_funding_legs(initiator=initiator, items=items),
        idempotency_key=idempotency_key,
        kind=Transaction.Kind.INITIAL_FUNDS,
        batch_model=Batch,
    )

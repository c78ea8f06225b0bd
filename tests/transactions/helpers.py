"""Moving money in tests through the same service the API uses."""

import itertools
from decimal import Decimal

from transactions.services import transfer_create

_keys = itertools.count()


def transfer(sender, receiver, amount, *, initiator=None):
    """A completed (or recorded-failed) transfer from `sender` to `receiver`."""
    return transfer_create(
        initiator=initiator or sender.user,
        from_account_id=str(sender.id),
        to_account_id=str(receiver.id),
        amount=Decimal(str(amount)),
        idempotency_key=f"t-{next(_keys)}",
    ).transaction

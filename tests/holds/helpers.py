"""Holds in tests through the same services the API uses."""

import itertools
from decimal import Decimal

from transactions.hold_services import hold_create

_keys = itertools.count()


def hold(payer, payee, amount, *, expires_in=3600):
    """A PENDING hold of `amount` on `payer` for `payee`."""
    return hold_create(
        initiator=payer.user,
        from_account_id=str(payer.id),
        to_account_id=str(payee.id),
        amount=Decimal(str(amount)),
        idempotency_key=f"h-{next(_keys)}",
        expires_in=expires_in,
    ).hold

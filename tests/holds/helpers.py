"""Holds in tests through the same services the API uses."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from ledger.models import Hold
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


def expired_hold(payer, payee, minor, *, key="expired"):
    """A PENDING hold whose expiresAt has passed, as time passing would leave it (written
    directly: the service only makes holds that expire in the future)."""
    return Hold.objects.create(
        from_account=payer,
        to_account=payee,
        amount=minor,
        currency=payer.currency,
        status=Hold.Status.PENDING,
        expires_at=timezone.now() - timedelta(seconds=1),
        expires_in=1,
        initiator=payer.user,
        idempotency_key=key,
        fingerprint="-",
    )

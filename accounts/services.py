"""Writes for accounts."""

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.exceptions import UnknownCurrency
from accounts.models import Account
from bankledger.money import currency_exponent
from users.models import User
from users.services import user_create


def account_create(*, user: User, currency: str | None = None) -> Account:
    currency = currency or settings.DEFAULT_CURRENCY
    if currency_exponent(currency) is None:
        raise UnknownCurrency(f"Unknown currency: {currency!r}. Use an ISO 4217 code.")
    return Account.objects.create(user=user, currency=currency)


def funding_account_get_or_create(*, system_user: User, currency: str) -> Account:
    """The system user's funding account in `currency`, opened on first use. The partial unique
    index decides a race between two first uses."""
    existing = Account.objects.filter(user=system_user, currency=currency, is_funding=True).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Account.objects.create(user=system_user, currency=currency, is_funding=True)
    except IntegrityError:
        return Account.objects.get(user=system_user, currency=currency, is_funding=True)


def system_user_create(*, email: str, password: str, name: str = "System") -> User:
    """A system user (also staff, for the admin) with its funding account in the default
    currency, created together."""
    with transaction.atomic():
        user = user_create(email=email, name=name, password=password, is_system=True, is_staff=True)
        funding_account_get_or_create(system_user=user, currency=settings.DEFAULT_CURRENCY)
    return user

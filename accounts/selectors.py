"""Reads for accounts. Every read is scoped to the caller: another user's account does not
exist as far as they can tell."""

from django.db.models import QuerySet

from accounts.exceptions import AccountNotFound
from accounts.models import Account
from bankledger.core.ids import parse_id
from users.models import User


def account_list(*, user: User) -> QuerySet[Account]:
    return Account.objects.filter(user=user).order_by("created_at", "id")


def account_get_owned(*, user: User, account_id: str) -> Account:
    """The caller's account with this id; a malformed id is an unknown one."""
    key = parse_id(account_id, not_found=AccountNotFound)
    account = Account.objects.filter(id=key, user=user).first()
    if account is None:
        raise AccountNotFound()
    return account


def account_get_visible(*, user: User, account_id: str) -> Account:
    """The account with this id if the caller owns it or is a system user (who may see any)."""
    if not user.is_system:
        return account_get_owned(user=user, account_id=account_id)
    key = parse_id(account_id, not_found=AccountNotFound)
    account = Account.objects.filter(id=key).first()
    if account is None:
        raise AccountNotFound()
    return account

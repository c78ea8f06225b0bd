"""Reads for accounts. Every read is scoped to the caller: another user's account does not
exist as far as they can tell."""

from django.db.models import Q, QuerySet

from accounts.exceptions import AccountNotFound
from accounts.models import Account
from bankledger.core.ids import id_contains, id_fragment, parse_id
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


def accounts_search(*, term: str) -> QuerySet[Account]:
    """Accounts a person may pick to receive money (the admin's funding page): user accounts
    that are not closed, never a funding account, each word of `term` found in the owner's
    email or name or anywhere in the account's id; newest first."""
    accounts = (
        Account.objects.filter(is_funding=False)
        .exclude(status=Account.Status.CLOSED)
        .select_related("user")
        .order_by("-created_at")
    )
    for word in term.split():
        match = Q(user__email__icontains=word) | Q(user__name__icontains=word)
        fragment = id_fragment(word)
        if fragment:
            match |= id_contains("id", fragment)
        accounts = accounts.filter(match)
    return accounts

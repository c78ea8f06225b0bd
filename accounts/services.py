"""Writes for accounts."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.exceptions import (
    AccountClosed,
    AccountFrozen,
    AccountHasPendingHolds,
    AccountNotEmpty,
    AccountNotFound,
    FundingAccountHasNoLimits,
    FundingAccountNotClosable,
    InvalidAccountStatus,
    InvalidLimit,
    LimitBelowUsage,
    NotSystemUser,
    UnknownCurrency,
)
from accounts.models import Account, AccountLimitChange, AccountStatusChange
from accounts.serializers import ACCOUNT_OUTPUT
from bankledger.core.ids import parse_id
from bankledger.core.money import (
    DEFAULT_CURRENCY,
    currency_close_matches,
    currency_exponent,
    currency_normalize,
    format_minor_units,
    to_minor_units,
)
from bankledger.events.services import events_record
from bankledger.events.types import NewEvent
from users.models import User
from users.quotas import quota_check
from users.services import user_create


def account_event(*, account: Account, type: str) -> NewEvent:
    """An `account.*` event: the account as the API renders it, seen by its owner."""
    return NewEvent(
        type=type, data=ACCOUNT_OUTPUT.to_representation(account), audience={account.user_id}
    )


def account_create(*, user: User, currency: str | None = None) -> Account:
    """Open an account in `currency` (any case; stored upper case), or the default one."""
    currency = currency_normalize(currency or DEFAULT_CURRENCY)
    if currency_exponent(currency) is None:
        raise UnknownCurrency(currency=currency, close=currency_close_matches(currency))
    with transaction.atomic():
        open_accounts = Account.objects.filter(user=user).exclude(status=Account.Status.CLOSED)
        quota_check(user=user, quota="accounts", owned=open_accounts)
        account = Account.objects.create(user=user, currency=currency)
        events_record(events=[account_event(account=account, type="account.created")])
    return account


def funding_account_get_or_create(*, system_user: User, currency: str) -> Account:
    """The system user's funding account in `currency`, opened on first use. The partial unique
    index decides a race between two first uses."""
    existing = Account.objects.filter(user=system_user, currency=currency, is_funding=True).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            account = Account.objects.create(user=system_user, currency=currency, is_funding=True)
            events_record(events=[account_event(account=account, type="account.created")])
            return account
    except IntegrityError:
        return Account.objects.get(user=system_user, currency=currency, is_funding=True)


def system_user_create(*, email: str, password: str, name: str = "System") -> User:
    """A system user (also staff, for the admin) with its funding account in the default
    currency, created together."""
    with transaction.atomic():
        user = user_create(email=email, name=name, password=password, is_system=True, is_staff=True)
        funding_account_get_or_create(system_user=user, currency=DEFAULT_CURRENCY)
    return user


def _may_change_status(*, account: Account, status: str, actor: User | None) -> None:
    """Freezing and unfreezing are for system users; closing for the owner (of an account that
    is not frozen) or a system user. No actor means an operator at a shell (a management
    command), who may do all three."""
    if actor is None or actor.is_system:
        return
    if status != Account.Status.CLOSED:
        raise NotSystemUser()
    if account.user_id != actor.id:
        # Another user's account does not exist as far as they can tell.
        raise AccountNotFound()
    if account.status == Account.Status.FROZEN:
        raise AccountFrozen()


def _pending_holds(account: Account) -> bool:
    """Whether a hold on the account (either side) still reserves money: a payments API does
    not let an authorization outlive the account it was given on or for."""
    now = timezone.now()
    live = {"status": "PENDING", "expires_at__gt": now}
    return account.holds.filter(**live).exists() or account.incoming_holds.filter(**live).exists()


# The event a move to each status writes (out of FROZEN to ACTIVE is the only way to ACTIVE).
_STATUS_EVENTS = {
    Account.Status.FROZEN: "account.frozen",
    Account.Status.ACTIVE: "account.unfrozen",
    Account.Status.CLOSED: "account.closed",
}


def account_status_set(
    *, account_id: str, status: str, actor: User | None, reason: str = ""
) -> Account:
    """Move an account to `status` and record who did it, when and why, in one database
    transaction with the account row locked, so a transfer cannot change the balance between
    the check and the change. Setting the status it already has changes and records nothing."""
    if status not in Account.Status.values:
        raise InvalidAccountStatus()
    key = parse_id(account_id, not_found=AccountNotFound)
    with transaction.atomic():
        account = Account.objects.select_for_update().filter(id=key).first()
        if account is None:
            raise AccountNotFound()
        _may_change_status(account=account, status=status, actor=actor)
        if account.status == status:
            return account
        if account.status == Account.Status.CLOSED:
            raise AccountClosed()
        if status == Account.Status.CLOSED:
            if account.is_funding:
                raise FundingAccountNotClosable()
            if account.balance != 0:
                raise AccountNotEmpty()
            if _pending_holds(account):
                raise AccountHasPendingHolds()
        moment = _after(account.updated_at)
        AccountStatusChange.objects.create(
            account=account,
            created_at=moment,
            from_status=account.status,
            to_status=status,
            actor=actor,
            reason=reason,
        )
        account.status, account.updated_at = status, moment
        # Not save(): `auto_now` would stamp the account with the clock again.
        Account.objects.filter(id=account.id).update(status=status, updated_at=moment)
        events_record(events=[account_event(account=account, type=_STATUS_EVENTS[status])])
    return account


def _after(moment: datetime) -> datetime:
    """Now, or just after `moment` if the clock stands behind it: a status change is later than
    every entry of its account before it (the engine stamps an account with its postings'
    time), which is how `verify_ledger` tells each entry's status from the history."""
    return max(timezone.now(), moment + timedelta(microseconds=1))


def account_freeze(*, account_id: str, actor: User | None, reason: str = "") -> Account:
    """A frozen account neither sends nor receives until it is unfrozen. System users only."""
    return account_status_set(
        account_id=account_id, status=Account.Status.FROZEN, actor=actor, reason=reason
    )


def account_unfreeze(*, account_id: str, actor: User | None, reason: str = "") -> Account:
    """Make a frozen account ACTIVE again. System users only."""
    return account_status_set(
        account_id=account_id, status=Account.Status.ACTIVE, actor=actor, reason=reason
    )


def account_close(*, account_id: str, actor: User | None, reason: str = "") -> Account:
    """Close an account for good; the owner or a system user, and only at a zero balance."""
    return account_status_set(
        account_id=account_id, status=Account.Status.CLOSED, actor=actor, reason=reason
    )


MAX_LIMIT_MINOR_UNITS = 10**15
# `daily_outflow_limit` not given at all (None means "no limit").
UNCHANGED = object()


def _limit_minor_units(field: str, amount: Decimal, currency: str) -> int:
    minor = to_minor_units(amount, currency_exponent(currency)) if amount >= 0 else None
    if minor is None or minor > MAX_LIMIT_MINOR_UNITS:
        raise InvalidLimit(field, f"A non-negative {currency} amount.")
    return minor


def account_limits_set(
    *,
    account_id: str,
    actor: User | None,
    overdraft_limit: Decimal | None = None,
    daily_outflow_limit=UNCHANGED,
    reason: str = "",
) -> Account:
    """Set a user account's overdraft and daily outflow limits (major units; a daily limit of
    None removes it) and record who, when, why and what they were, in one database transaction
    with the account row locked. System users (or an operator at a shell, `actor` None) only;
    the owner gets 403, anyone else 404. The database refuses an overdraft below what the
    account already uses (balance - held), answered 400 `limit_below_usage`."""
    key = parse_id(account_id, not_found=AccountNotFound)
    with transaction.atomic():
        account = Account.objects.select_for_update().filter(id=key).first()
        if account is None or (
            actor is not None and not actor.is_system and account.user_id != actor.id
        ):
            raise AccountNotFound()
        if actor is not None and not actor.is_system:
            raise NotSystemUser()
        if account.is_funding:
            raise FundingAccountHasNoLimits()
        change = AccountLimitChange(
            account=account,
            previous_overdraft_limit=account.overdraft_limit,
            previous_daily_outflow_limit=account.daily_outflow_limit,
            actor=actor,
            reason=reason,
        )
        if overdraft_limit is not None:
            account.overdraft_limit = _limit_minor_units(
                "overdraftLimit", overdraft_limit, account.currency
            )
        if daily_outflow_limit is not UNCHANGED:
            account.daily_outflow_limit = (
                None
                if daily_outflow_limit is None
                else _limit_minor_units("dailyOutflowLimit", daily_outflow_limit, account.currency)
            )
        try:
            with transaction.atomic():
                account.save(update_fields=["overdraft_limit", "daily_outflow_limit", "updated_at"])
        except IntegrityError:
            raise LimitBelowUsage() from None
        change.overdraft_limit = account.overdraft_limit
        change.daily_outflow_limit = account.daily_outflow_limit
        change.save()
        events_record(events=[_limits_event(account)])
    return account


def limits_render(account: Account) -> dict:
    """The limits as the API renders them (amounts in major units)."""
    daily = account.daily_outflow_limit
    return {
        "accountId": str(account.id),
        "currency": account.currency,
        "overdraftLimit": format_minor_units(account.overdraft_limit, account.currency),
        "dailyOutflowLimit": None if daily is None else format_minor_units(daily, account.currency),
    }


def _limits_event(account: Account) -> NewEvent:
    return NewEvent(
        type="account.limits_changed", data=limits_render(account), audience={account.user_id}
    )

"""Reads of holds. The owners of both accounts and system users see a hold; anyone else gets
404, as if it did not exist."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import account_get_visible
from bankledger.core.ids import parse_id
from bankledger.core.pagination import Page
from ledger.models import Hold
from transactions.exceptions import HoldNotFound
from transactions.selectors import newest_first_page
from users.models import User


def _visible(user: User) -> QuerySet[Hold]:
    holds = Hold.objects.select_related("to_account")
    if user.is_system:
        return holds
    own = Account.objects.filter(user=user).values("id")
    return holds.filter(Q(from_account__in=own) | Q(to_account__in=own))


def hold_get(*, user: User, hold_id: str) -> Hold:
    key = parse_id(hold_id, not_found=HoldNotFound)
    hold = _visible(user).filter(id=key).first()
    if hold is None:
        raise HoldNotFound()
    return hold


def hold_list(
    *,
    user: User,
    limit: int,
    account_id: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
) -> Page:
    """Newest first, keyset-paginated on (created_at, id). `status` EXPIRED also finds the
    PENDING holds past their expiry (shown EXPIRED), PENDING only the live ones."""
    rows = _visible(user)
    if account_id is not None:
        account = account_get_visible(user=user, account_id=account_id)
        rows = rows.filter(Q(from_account=account) | Q(to_account=account))
    if status:
        rows = rows.filter(_status_is(status))
    return newest_first_page(rows, cursor=cursor, limit=limit)


def _status_is(status: str) -> Q:
    now = timezone.now()
    pending = Q(status=Hold.Status.PENDING)
    if status == Hold.Status.PENDING:
        return pending & Q(expires_at__gt=now)
    if status == Hold.Status.EXPIRED:
        return Q(status=status) | (pending & Q(expires_at__lte=now))
    return Q(status=status)

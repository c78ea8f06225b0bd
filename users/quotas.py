"""Per-user quotas (API.md "Rate limits and quotas"): at most `settings.QUOTAS[name]` rows of
one kind per user, system users exempt.

Counting and then inserting is a race: twenty concurrent requests would all count nineteen.
`quota_check` therefore locks the user's row first (`SELECT ... FOR NO KEY UPDATE` on
PostgreSQL, which does not wait for the foreign-key checks of other inserts; on SQLite the
IMMEDIATE transaction already holds the database's write lock), so the checks of one user run
one after the other, each seeing the rows the one before committed. Call it inside the same
`transaction.atomic()` block that inserts the new row:

    with transaction.atomic():
        quota_check(user=user, quota="webhooks", owned=Webhook.objects.filter(user=user))
        webhook = Webhook.objects.create(user=user, ...)
"""

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from users.exceptions import QuotaExceeded
from users.models import User


def quota_check(*, user: User, quota: str, owned: QuerySet) -> None:
    """Refuse with `QuotaExceeded` when `owned` (the user's rows that count) already holds
    `settings.QUOTAS[quota]`; the user's row stays locked until the caller's transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("quota_check must run inside the transaction that inserts the row.")
    if user.is_system:
        return
    limit = settings.QUOTAS[quota]
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk").get()
    if owned.count() >= limit:
        raise QuotaExceeded(f"Quota exceeded: at most {limit} {quota.replace('_', ' ')} per user.")

"""The daily outflow limit (API.md "Account limits"): what left an account today (UTC) and what
the limit still allows. Checked by the posting engine on the locked row."""

import uuid

from django.apps import apps
from django.db.models import Sum
from django.utils import timezone


def outflow_used(account_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """What left each account today (UTC) through transfers, batch items and captures: what its
    daily outflow limit counts."""
    # The Transaction model lives in the app above this one: looked up by name.
    model = apps.get_model("transactions", "Transaction")
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        model._default_manager.filter(
            from_account_id__in=account_ids,
            created_at__gte=midnight,
            kind__in=["TRANSFER", "CAPTURE"],
        )
        .exclude(status="FAILED")
        .values("from_account_id")
        .annotate(total=Sum("amount"))
    )
    return {row["from_account_id"]: row["total"] for row in rows}


def outflow_remaining(*, is_funding: bool, limit: int | None, used: int) -> int | None:
    """What a daily outflow limit of `limit` still allows once `used` left today; None: no
    limit (a funding account has none)."""
    if is_funding or limit is None:
        return None
    return max(limit - used, 0)

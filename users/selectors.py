"""Reads for users."""

from django.db.models import QuerySet

from users.models import ApiKey, User


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    """The caller's keys that are not revoked, oldest first (expired ones included: the caller
    may want to see and revoke them)."""
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).order_by("created_at")

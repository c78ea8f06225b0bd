"""Writes for users: registration, login (with throttling), token issue and revocation, API
keys."""

import contextlib
import hashlib
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError

from bankledger.core.ids import parse_id
from users.exceptions import (
    ApiKeyNotFound,
    EmailTaken,
    InvalidCredentials,
    LoginThrottled,
    SystemScopeNotAllowed,
    WeakPassword,
)
from users.models import ApiKey, User, normalize_email
from users.quotas import quota_check
from users.scopes import SYSTEM
from users.tasks import welcome_email_send
from users.tokens import AccessToken


def user_create(
    *, email: str, name: str, password: str, is_system: bool = False, is_staff: bool = False
) -> User:
    """Create a user after Django's password validators agree; the unique index on
    lower(email) decides a race between two registrations of the same address."""
    email = normalize_email(email)
    user = User(email=email, name=name, is_system=is_system, is_staff=is_staff)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise WeakPassword(list(exc.messages)) from exc
    user.set_password(password)
    if User.objects.filter(email=email).exists():
        raise EmailTaken()
    with transaction.atomic():
        try:
            with transaction.atomic():
                user.save(force_insert=True)
        except IntegrityError as exc:
            raise EmailTaken() from exc
        # The welcome task commits with the user or not at all, like a transfer's notices.
        # System users are operators made from the command line: no welcome for them.
        if not is_system:
            welcome_email_send.enqueue(str(user.id))
    return user


def _throttle_keys(email: str, address: str) -> list[tuple[str, int]]:
    digest = hashlib.sha256(email.encode()).hexdigest()
    return [
        (f"login-failures:email:{digest}", settings.LOGIN_FAILURES_PER_EMAIL),
        (f"login-failures:address:{address}", settings.LOGIN_FAILURES_PER_ADDRESS),
    ]


def _check_throttle(keys: list[tuple[str, int]]) -> None:
    now = time.time()
    for key, limit in keys:
        state = cache.get(key)
        if state and state["count"] >= limit:
            remaining = state["since"] + settings.LOGIN_FAILURE_WINDOW - now
            if remaining > 0:
                raise LoginThrottled(retry_after=int(remaining) + 1)


def _record_failure(keys: list[tuple[str, int]]) -> None:
    now = time.time()
    for key, _limit in keys:
        state = cache.get(key)
        if not state or state["since"] + settings.LOGIN_FAILURE_WINDOW <= now:
            state = {"count": 0, "since": now}
        state["count"] += 1
        remaining = int(state["since"] + settings.LOGIN_FAILURE_WINDOW - now) + 1
        cache.set(key, state, timeout=max(remaining, 1))


def user_login(*, email: str, password: str, client_address: str) -> User:
    """The user whose credentials these are. Unknown email and wrong password fail alike, and
    both run one password hash (Django's ModelBackend hashes for unknown users too)."""
    email = normalize_email(email)
    keys = _throttle_keys(email, client_address)
    _check_throttle(keys)
    user = authenticate(None, username=email, password=password)
    if user is None:
        _record_failure(keys)
        raise InvalidCredentials()
    cache.delete(keys[0][0])
    return user


def token_issue(*, user: User) -> str:
    return str(AccessToken.for_user(user))


def token_revoke(*, token: AccessToken) -> None:
    """Blacklist the token until its own expiry; `flushexpiredtokens` removes it after that."""
    # A concurrent logout with the same token may win the race: the outcome is the same.
    with contextlib.suppress(TokenError, IntegrityError):
        token.blacklist()


def user_set_password(*, user: User, password: str) -> None:
    """Replace a user's password after Django's password validators agree."""
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise WeakPassword(list(exc.messages)) from exc
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])


API_KEY_PREFIX = "blk_"


def api_key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(
    *, user: User, name: str, scopes: list[str], expires_in: int | None = None
) -> tuple[ApiKey, str]:
    """A new key and its secret, which is returned here once and never stored."""
    if SYSTEM in scopes and not user.is_system:
        raise SystemScopeNotAllowed()
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        live = ApiKey.objects.filter(user=user, revoked_at__isnull=True).exclude(
            expires_at__lte=now
        )
        quota_check(user=user, quota="api_keys", owned=live)
        key = ApiKey.objects.create(
            user=user,
            name=name,
            prefix=secret[:12],
            secret_hash=api_key_hash(secret),
            scopes=list(dict.fromkeys(scopes)),
            expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
        )
    return key, secret


def api_key_revoke(*, user: User, key_id: str) -> None:
    """Refuse the caller's key from now on; another user's key is a 404."""
    key = parse_id(key_id, not_found=ApiKeyNotFound)
    revoked = ApiKey.objects.filter(id=key, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not revoked:
        raise ApiKeyNotFound()


def api_keys_revoke_any(*, key_ids: list) -> int:
    """Revoke these keys whoever owns them (the admin's action); returns how many."""
    return ApiKey.objects.filter(id__in=key_ids, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def api_key_touch(*, key: ApiKey) -> None:
    """Keep `last_used_at` to the minute without a write per request: only when the stored
    time is older than API_KEY_LAST_USED_RESOLUTION seconds."""
    now = timezone.now()
    resolution = timedelta(seconds=settings.API_KEY_LAST_USED_RESOLUTION)
    if key.last_used_at is None or now - key.last_used_at >= resolution:
        ApiKey.objects.filter(id=key.id).update(last_used_at=now)
        key.last_used_at = now

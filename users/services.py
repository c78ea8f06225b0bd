"""Writes for users: registration, login (with throttling), token issue and revocation."""

import contextlib
import hashlib
import time

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError

from users.exceptions import EmailTaken, InvalidCredentials, LoginThrottled, WeakPassword
from users.models import User, normalize_email
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

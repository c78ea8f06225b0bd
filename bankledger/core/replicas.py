"""Read replicas: which reads may be served by a streaming replica, and when they may not.

Only reads that tolerate lag go to a replica, and only those a selector marks with
`@lag_tolerant` (history, statements and their CSV, as-of balances). Everything else stays on
the primary: every write, every locked read (`select_for_update` routes as a write), reads
inside a database transaction, and every unmarked read, the balance endpoint among them.

A user who wrote is pinned to the primary for `REPLICA_PIN_SECONDS` afterwards, so their own
reads see their own writes: `ReplicaPinMiddleware` sets a key in the shared cache after every
unsafe request by an authenticated user (whatever its answer: refusals are recorded and a 5xx
may have committed), and a marked read first looks for the caller's key.

With no replica configured (`DATABASE_REPLICA_URLS` empty) neither the router nor the
middleware is installed and `@lag_tolerant` is a no-op: nothing changes."""

import functools
import logging
import random
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.http import HttpRequest

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The request being served (set by the middleware) and the alias that marked reads use now.
_request: ContextVar[HttpRequest | None] = ContextVar("replica_request", default=None)
_read_alias: ContextVar[str | None] = ContextVar("replica_read_alias", default=None)


def _pin_key(user_id) -> str:
    return f"replica-pin:{user_id}"


def _caller_is_pinned() -> bool:
    request = _request.get()
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and cache.get(_pin_key(user.pk)))


def _replica_for_read() -> str | None:
    """A replica for a lag-tolerant read now, or None when it must be the primary."""
    replicas = settings.REPLICA_DATABASES
    if not replicas or connections[DEFAULT_DB_ALIAS].in_atomic_block or _caller_is_pinned():
        return None
    return random.choice(replicas)  # noqa: S311 - spreading load, not a secret


def lag_tolerant(selector):
    """Mark a selector whose reads may lag the primary by the replication delay. Its queries
    run on a replica (unless the caller is pinned or inside a transaction); a QuerySet it
    returns stays bound to that replica, so one evaluated later (a page, a streamed CSV)
    reads from the same place."""

    @functools.wraps(selector)
    def wrapper(*args, **kwargs):
        alias = _read_alias.get() or _replica_for_read()  # a nested selector keeps the choice
        token = _read_alias.set(alias)
        try:
            result = selector(*args, **kwargs)
        finally:
            _read_alias.reset(token)
        if alias is not None and isinstance(result, QuerySet):
            result = result.using(alias)
        return result

    return wrapper


class ReplicaRouter:
    """Reads go where `@lag_tolerant` chose (None: Django's default, the primary or the
    database the instance came from); writes always to the primary."""

    def db_for_read(self, model, **hints):
        return _read_alias.get()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # a replica replays the primary's schema


class ReplicaPinMiddleware:
    """Pins an authenticated user who sent an unsafe request to the primary for
    `REPLICA_PIN_SECONDS`, and makes the request known to `@lag_tolerant`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        token = _request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        # DRF authenticates inside the view and sets the user on this request too.
        user = getattr(request, "user", None)
        if request.method not in SAFE_METHODS and user is not None and user.is_authenticated:
            self._pin(user.pk)
        return response

    @staticmethod
    def _pin(user_id) -> None:
        # Whatever the cache backend raises, a pin that cannot be stored must not turn the
        # answer to a write that committed into an error; the cost is a read that may lag.
        try:
            cache.set(_pin_key(user_id), True, settings.REPLICA_PIN_SECONDS)
        except Exception:
            logger.warning("could not pin user %s to the primary", user_id, exc_info=True)

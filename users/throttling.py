"""Rate limits per caller (the user, or an API key's owner) and, without credentials, per client
address (API.md "Rate limits and quotas"), as one DRF throttle for every view.

DRF's own `SimpleRateThrottle` keeps each caller's request times as a list that it reads from
the cache and writes back: two workers that read the same list both write it back with one
request each, so a burst across workers gets past the limit, and every request writes a list of
up to N timestamps. This throttle keeps DRF's hooks (rates, the client address, `wait()` and
the 429 with `Retry-After`) and counts with one atomic increment per request in a fixed window:
Redis `INCR` when the counters are in the cache, one `INSERT ... ON CONFLICT DO UPDATE` on
an unlogged table otherwise (the database cache has no atomic increment and would cost five
statements and a commit per request)."""

import math

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

# One statement, atomic on PostgreSQL and SQLite alike: a new window starts again at 1.
_UPSERT = (
    "INSERT INTO users_ratelimitcounter AS c (key, window_end, hits) VALUES (%s, %s, 1)"
    " ON CONFLICT (key) DO UPDATE SET"
    " hits = CASE WHEN c.window_end = excluded.window_end THEN c.hits + 1 ELSE 1 END,"
    " window_end = excluded.window_end RETURNING hits"
)


def _database_hit(key: str, window_end: int) -> int:
    """`users.models.RateLimitCounter`, counted in plain SQL: the ORM has no upsert that
    returns the updated count."""
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [key, window_end])
        return cursor.fetchone()[0]


def _cache_hit(key: str, window_end: int, duration: int) -> int:
    """One more request in the window; the window is part of the key, so a new one starts at 0
    and old ones expire by themselves."""
    key = f"ratelimit:{key}:{window_end}"
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request
        if cache.add(key, 1, timeout=duration + 1):
            return 1
        return cache.incr(key)


def counter_hit(*, key: str, window_end: int, duration: int) -> int | None:
    """Count one request under `key` in the window that ends at `window_end`; the count so far,
    or None when Redis is unreachable (the request is let through: a cache outage must not take
    the API down; the database counters fail with the database, and so would the request)."""
    if settings.RATE_LIMIT_COUNTERS == "database":
        return _database_hit(key, window_end)
    try:
        return _cache_hit(key, window_end, duration)
    except redis.RedisError:
        return None


class RateLimit(SimpleRateThrottle):
    """`register` for views with `throttle_scope = "register"`, else `writes` for unsafe methods
    and `reads` for safe ones, at the rates of `settings.RATE_LIMITS`, read per request so a test
    can change them. Leaves `(limit, remaining, reset)` on the request for the headers."""

    def __init__(self):
        """Nothing to read up front: the scope and rate depend on the request."""
        self.seconds_left = 0.0

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, "throttle_scope", None)
        scope = scope or ("reads" if request.method in SAFE_METHODS else "writes")
        rate = settings.RATE_LIMITS.get(scope)
        if rate is None:
            return True
        limit, duration = self.parse_rate(rate)
        now = self.timer()
        window_end = (int(now) // duration + 1) * duration
        hits = counter_hit(
            key=f"{scope}:{self._caller(request)}", window_end=window_end, duration=duration
        )
        if hits is None:
            return True
        self.seconds_left = window_end - now
        request._request.rate_limit = (limit, max(limit - hits, 0), math.ceil(self.seconds_left))
        return hits <= limit

    def _caller(self, request) -> str:
        user = request.user
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"address:{self.get_ident(request)}"

    def wait(self) -> float:
        return self.seconds_left


class RateLimitHeadersMiddleware:
    """Adds the IETF RateLimit header fields to every response of a limited call, the 429s
    included (`RateLimit-Reset` is in seconds, like `Retry-After`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        state = getattr(request, "rate_limit", None)
        if state is not None:
            limit, remaining, reset = state
            response["RateLimit-Limit"] = str(limit)
            response["RateLimit-Remaining"] = str(remaining)
            response["RateLimit-Reset"] = str(reset)
        return response

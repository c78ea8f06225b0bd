"""Rate limits and quotas (API.md "Rate limits and quotas", OWASP API4 and API6).

Rates are DRF's `N/second|minute|hour|day`; an empty value turns that limit off (for a
deployment that limits at its proxy instead). Counters live in Redis when `REDIS_URL` is set,
otherwise in an unlogged table of the database (see `users.throttling`)."""

from .cache import REDIS_URL
from .environment import env

RATE_LIMITS = {
    "writes": env("RATE_LIMIT_WRITES", default="50/second") or None,
    "reads": env("RATE_LIMIT_READS", default="200/second") or None,
    "register": env("RATE_LIMIT_REGISTER", default="20/hour") or None,
}
RATE_LIMIT_COUNTERS = env("RATE_LIMIT_COUNTERS", default="cache" if REDIS_URL else "database")

# Most rows a user may own; system users are exempt (users.quotas).
QUOTAS = {
    "accounts": env.int("MAX_ACCOUNTS_PER_USER", default=20),
    "webhooks": env.int("MAX_WEBHOOKS_PER_USER", default=10),
    "api_keys": env.int("MAX_API_KEYS_PER_USER", default=20),
}

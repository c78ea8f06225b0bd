"""A short mutual exclusion between server processes, held for part of one request.

Django has no lock in its cache API and django-redis's `cache.lock` works on Redis only; the
shared cache here is the database by default. `cache.add` stores a key only when it is absent,
atomically on both backends (a unique key in the database, SET NX on Redis), so whoever adds the
key holds the lock. The timeout frees a lock whose holder died."""

import time
import uuid
from contextlib import contextmanager

from django.core.cache import cache

from bankledger.core.errors import ServiceUnavailable

_POLL_SECONDS = 0.05


@contextmanager
def cache_lock(name: str, *, hold: int = 30, wait: float = 10.0):
    """Run the block while no other process runs a block under the same `name`; waits up to
    `wait` seconds for the lock (then 503: nothing was done) and holds it at most `hold`."""
    key, token = f"lock:{name}", uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while not cache.add(key, token, timeout=hold):
        if time.monotonic() > deadline:
            raise ServiceUnavailable()
        time.sleep(_POLL_SECONDS)
    try:
        yield
    finally:
        if cache.get(key) == token:
            cache.delete(key)

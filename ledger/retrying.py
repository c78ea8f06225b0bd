"""Deadlocks and serialization failures, retried a bounded number of times, then 503: for the
posting engine and the hold state changes alike."""

import logging
from collections.abc import Callable
from typing import Any

from django.db import OperationalError

from bankledger.core.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

# Deadlocks and serialization failures are retried this many times in all, then 503.
MAX_ATTEMPTS = 3
_RETRYABLE_SQLSTATES = {"40001", "40P01"}


def retrying(function: Callable[[], Any]) -> Any:
    """`function()`, again after a deadlock or serialization failure, at most MAX_ATTEMPTS
    times in all; then 503."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return function()
        except OperationalError as exc:
            if not is_retryable(exc):
                raise
            logger.warning("posting attempt %d of %d failed: %s", attempt, MAX_ATTEMPTS, exc)
    raise ServiceUnavailable()


def is_retryable(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in _RETRYABLE_SQLSTATES or "database is locked" in str(exc)

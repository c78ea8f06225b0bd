"""Keyset ("seek") pagination with opaque cursors, shared by transaction history and statements.

Hand-made rather than DRF's `CursorPagination`: DRF positions a cursor by the first ordering
field alone and steps over rows that share that value with an offset, so rows with the same
`created_at` (both legs of a transfer share one) can be repeated or skipped when rows are
inserted among them. A keyset on a unique key (`(created_at, id)` for transactions, the entry
id for statements) is exact whatever is inserted meanwhile, and each page is one index range
scan however deep the client pages."""

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from bankledger.core.errors import ApplicationError

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


class TimeRangePageFilter(serializers.Serializer):
    """The query parameters every paged, time-ranged list shares."""

    since = serializers.DateTimeField(required=False, help_text="createdAt >= since")
    until = serializers.DateTimeField(required=False, help_text="createdAt < until")
    cursor = serializers.RegexField(
        r"^[A-Za-z0-9_-]+$",  # what cursor_encode writes: unpadded URL-safe base64
        required=False,
        # Cursors are about 130 characters; a bound this low also keeps any query string of
        # ours under gunicorn's request-line limit (4094 bytes), past which it answers 414.
        max_length=200,
        help_text="`nextCursor` of the previous page.",
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )


class InvalidCursor(ApplicationError):
    """A cursor this service did not hand out (or one that was altered)."""

    code = "invalid_cursor"
    message = "Invalid cursor."


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def cursor_encode(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str, keys: set[str]) -> dict[str, Any]:
    """The position a cursor holds; `InvalidCursor` unless it has exactly `keys`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(position, dict) or set(position) != keys:
        raise InvalidCursor()
    return position


def page_from(rows: list, *, limit: int, position: Callable[[Any], dict[str, Any]]) -> Page:
    """`rows` were fetched with `limit + 1`: the extra row only says another page exists."""
    items = rows[:limit]
    has_more = len(rows) > limit
    return Page(items=items, next_cursor=cursor_encode(position(items[-1])) if has_more else None)

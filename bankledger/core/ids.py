"""Resource ids are opaque UUID strings; a malformed one is treated like an unknown one."""

import uuid


def parse_id(value, *, not_found: type[Exception]) -> uuid.UUID:
    """`value` as a UUID, or `not_found` raised when it is not one (never a 500)."""
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise not_found() from exc

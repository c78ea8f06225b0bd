"""The event types of API.md and the small value a service hands to `events_record`."""

import uuid
from dataclasses import dataclass, field

EVENT_TYPES = (
    "transaction.completed",
    "transaction.failed",
    "transaction.reversed",
    "hold.created",
    "hold.captured",
    "hold.voided",
    "hold.expired",
    "account.created",
    "account.frozen",
    "account.unfrozen",
    "account.closed",
    "account.limits_changed",
)


@dataclass(frozen=True)
class NewEvent:
    """One change to record: its type, the resource as the API renders it, and the users who
    may see it (the owners of the accounts it touches; system users see every event anyway)."""

    type: str
    data: dict
    audience: frozenset[uuid.UUID] = field(default_factory=frozenset)

"""Writing events and numbering them.

`events_record` runs inside the caller's database transaction, on the money path: one plain
INSERT for all of a change's events. `events_sequence` runs after the commit, in the worker:
it numbers committed events in commit order and feeds the consumers."""

from functools import cache

from django.db import connection, transaction
from django.utils import timezone

from bankledger.core.ids import new_id
from bankledger.core.writes import Writes
from bankledger.events.consumers import consumers_feed
from bankledger.events.models import Event, EventAudience, EventSequence
from bankledger.events.types import NewEvent

_COLUMNS = ("uid", "type", "data", "audience", "created_at")


@cache
def event_fields() -> tuple:
    """The columns an event row is written with, in `events_rows` order."""
    return tuple(Event._meta.get_field(name) for name in _COLUMNS)


def events_record(*, events: list[NewEvent]) -> None:
    """Write `events` in the caller's database transaction, in one statement. They are
    numbered (and so become visible) only after the caller commits; a rollback takes them with
    it."""
    writes = Writes(connection)
    events_insert(events=events, writes=writes)
    writes.flush()


def events_insert(*, events: list[NewEvent], writes: Writes) -> None:
    """Add the one INSERT of `events` to a caller's writes."""
    if events:
        writes.insert(Event, event_fields(), events_rows(events=events, db=writes.db))


def events_rows(*, events: list[NewEvent], db) -> list[list]:
    """`events` as rows of database values in `event_fields()` order: Django's own field
    conversions, without the ORM's bulk_create, which costs several times the Python of the
    statement on the transfer path."""
    now = timezone.now()
    uid, _type, data, audience, created_at = event_fields()
    return [
        [
            uid.get_db_prep_save(new_id(), db),
            event.type,
            data.get_db_prep_save(event.data, db),
            audience.get_db_prep_save(sorted(str(u) for u in event.audience), db),
            created_at.get_db_prep_save(now, db),
        ]
        for event in events
    ]


def _locked_sequence() -> EventSequence:
    state = EventSequence.objects.select_for_update().filter(id=1).first()
    if state is None:
        # The row is made on first use (a flushed database has none); the primary key decides
        # between two workers starting at once.
        EventSequence.objects.bulk_create([EventSequence(id=1)], ignore_conflicts=True)
        state = EventSequence.objects.select_for_update().get(id=1)
    return state


def events_sequence(*, limit: int = 500) -> int:
    """Number the committed events that have no `seq` yet and feed them to the consumers, in
    one database transaction under the sequence row's lock; returns how many were numbered.

    Why this never lets a poller skip an event: only this function gives out numbers, one call
    at a time (the lock), each call above every number given before, and the numbers become
    visible only when its transaction commits. An event whose own transaction commits late is
    simply not seen by this call; the next call numbers it above everything visible by then."""
    if not Event.objects.filter(seq__isnull=True).exists():
        return 0  # the common idle case, without taking a lock
    with transaction.atomic():
        state = _locked_sequence()
        batch = list(Event.objects.filter(seq__isnull=True).order_by("id")[:limit])
        for seq, event in enumerate(batch, start=state.last_seq + 1):
            event.seq = seq
        Event.objects.bulk_update(batch, ["seq"])
        EventAudience.objects.bulk_create(
            EventAudience(user_id=user_id, event_id=event.id, seq=event.seq)
            for event in batch
            for user_id in event.audience
        )
        state.last_seq = batch[-1].seq if batch else state.last_seq
        state.save(update_fields=["last_seq"])
        if batch:
            consumers_feed(events=batch)
    return len(batch)

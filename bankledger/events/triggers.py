"""The database keeps events as written, on PostgreSQL and SQLite alike: the only change a row
may ever see is its `seq` going from null to a number, once (the sequencer's). Deleting stays
possible, for a retention policy. Installed by a migration. (`IS DISTINCT FROM` needs SQLite
3.39 or later.)"""

from bankledger.core.triggers import Refusal

_COLUMNS = ("id", "uid", "type", "data", "audience", "created_at")

IMMUTABLE = Refusal(
    name="events_event_immutable",
    table="events_event",
    event="UPDATE",
    message="events are immutable; seq is set once",
    when=" OR ".join(
        ["OLD.seq IS NOT NULL", "NEW.seq IS NULL"]
        + [f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in _COLUMNS]
    ),
)

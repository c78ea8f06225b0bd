"""Consumers of events: functions the sequencer calls with each batch it numbered, inside the
same database transaction, so what a consumer writes (delivery rows, email tasks, log entries)
exists exactly when the batch is numbered. Apps above this one register theirs in
`AppConfig.ready()`: the sequencer calls them without importing them."""

from collections.abc import Callable

from bankledger.events.models import Event

Consumer = Callable[..., None]

_consumers: dict[str, Consumer] = {}


def consumer_register(name: str, consume: Consumer) -> None:
    """`consume(events=[Event, ...])` will be called with every numbered batch, oldest first.
    Registering a name again replaces the earlier consumer (an app's ready() run twice)."""
    _consumers[name] = consume


def consumers_feed(*, events: list[Event]) -> None:
    for consume in _consumers.values():
        consume(events=events)

"""Consumers of events: functions the sequencer calls with each batch it numbered, inside the
same database transaction, so what a consumer writes (delivery rows, email tasks, log entries)
exists exactly when the batch is numbered. Apps above this one register theirs in
`AppConfig.ready()`: the sequencer calls them without importing them. Periodic work of the same
worker (signing the public log's checkpoints) registers the same way."""

import time
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


_periodic: dict[str, tuple[float, Callable[[], object]]] = {}
_last_run: dict[str, float] = {}


def periodic_register(name: str, every: float, run: Callable[[], object]) -> None:
    """`run()` will be called by the events worker at most once every `every` seconds."""
    _periodic[name] = (every, run)


def periodic_run() -> None:
    """Run the periodic work that is due (the events worker calls this on each pass)."""
    now = time.monotonic()
    for name, (every, run) in _periodic.items():
        if now - _last_run.get(name, float("-inf")) >= every:
            _last_run[name] = now
            run()

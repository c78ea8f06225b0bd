"""The public log as a consumer of events (registered in `ledger.apps`): the one sequencer that
numbers events in commit order appends every completed transaction to the log in that order,
in the same database transaction, and the events worker signs a checkpoint every LOG_INTERVAL
seconds when the log grew."""

import uuid

from ledger.log.services import log_append


def log_entries_append(*, events) -> None:
    completed = [
        uuid.UUID(event.data["_id"]) for event in events if event.type == "transaction.completed"
    ]
    if completed:
        log_append(transaction_ids=completed)

"""This app's consumers of events (`bankledger.events.consumers`), registered in apps.py."""

from transactions.tasks import batch_emails_send, transfer_emails_send


def transfer_emails_enqueue(*, events) -> None:
    """The debit and credit notices of each completed movement: one task per transaction, or
    one per batch for a batch's items (the tasks of before events existed, so notices read and
    send exactly as they did). Runs in the sequencer's transaction: the tasks exist exactly when
    the events are numbered."""
    batches = []
    for event in events:
        if event.type != "transaction.completed":
            continue
        batch = event.data.get("batch")
        if batch is None:
            transfer_emails_send.enqueue(event.data["_id"])
        elif batch not in batches:
            batches.append(batch)
    for batch in batches:
        batch_emails_send.enqueue(batch)

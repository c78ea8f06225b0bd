"""A transfer's events (from which its notices, webhooks and the rest follow) are written inside
the transfer's database transaction: if they cannot be written, the transfer does not happen
either (no money moves, a JSON error, the same key may be retried), and a transfer that
committed always has its event."""

import pytest
from django.db import connection

from accounts.models import Account
from bankledger.events.models import Event
from tests.conftest import client_for
from tests.security.responses import assert_safe
from transactions.models import Transaction

QUEUE = "events_event"


@pytest.fixture
def queue_gone():
    """The events table renamed for real (outside any transaction), then restored."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {QUEUE} RENAME TO {QUEUE}_gone")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {QUEUE}_gone RENAME TO {QUEUE}")


@pytest.mark.django_db(transaction=True)
def test_a_transfer_whose_event_cannot_be_written_moves_nothing(user, make_account, fund, request):
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "10.00")
    body = {
        "fromAccount": str(sender.id),
        "toAccount": str(receiver.id),
        "amount": "1.00",
        "idempotencyKey": "notice-outbox",
    }
    client = client_for(user)
    request.getfixturevalue("queue_gone")
    failed = client.post("/api/transactions", body, format="json")
    assert failed.status_code >= 500, failed.content
    assert_safe(failed)
    assert not Transaction.objects.filter(idempotency_key="notice-outbox").exists()
    assert Account.objects.get(id=receiver.id).balance == 0

    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {QUEUE}_gone RENAME TO {QUEUE}")
    try:
        retried = client.post("/api/transactions", body, format="json")
        assert retried.status_code == 201
        tx_id = retried.json()["transaction"]["_id"]
        completed = Event.objects.filter(type="transaction.completed", data___id=tx_id)
        assert completed.count() == 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {QUEUE} RENAME TO {QUEUE}_gone")

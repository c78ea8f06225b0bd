"""The notice task is enqueued inside the transfer's database transaction: if it cannot be
written, the transfer does not happen either (no money moves, a JSON error, the same key may
be retried), and a transfer that committed always has its notice task."""

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from accounts.models import Account
from tests.conftest import client_for
from tests.security.responses import assert_safe
from transactions.models import Transaction

QUEUE = "django_tasks_database_dbtaskresult"


@pytest.fixture
def queue_gone():
    """The task queue's table renamed for real (outside any transaction), then restored."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {QUEUE} RENAME TO {QUEUE}_gone")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {QUEUE}_gone RENAME TO {QUEUE}")


@pytest.mark.django_db(transaction=True)
def test_a_transfer_whose_notice_cannot_be_enqueued_moves_nothing(
    user, make_account, fund, request
):
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
        assert DBTaskResult.objects.filter(args_kwargs__args=[tx_id]).count() == 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {QUEUE} RENAME TO {QUEUE}_gone")

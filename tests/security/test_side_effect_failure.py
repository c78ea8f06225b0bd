"""A notice that cannot be enqueued after the transfer committed must not turn the committed
transfer's answer into a 500 (the client would retry something that already happened)."""

import pytest
from django.db import connection

from tests.conftest import client_for
from tests.security.responses import assert_safe

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
def test_a_failed_enqueue_after_commit_still_answers_201(user, make_account, fund, queue_gone):
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "10.00")
    response = client_for(user).post(
        "/api/transactions",
        {
            "fromAccount": str(sender.id),
            "toAccount": str(receiver.id),
            "amount": "1.00",
            "idempotencyKey": "notice-lost",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert_safe(response)

"""The admin shows a batch with its items in order, and finds transactions by reference and by
metadata (KEY=VALUE), read-only like every transaction."""

from decimal import Decimal

import pytest
from django.test import Client

from transactions.models import Batch
from transactions.services import BatchItem, batch_create


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def posted(user, make_account, fund):
    a, b, c = make_account(user), make_account(user), make_account(user)
    fund(a, "100")
    items = [
        BatchItem(
            from_account_id=str(a.id),
            to_account_id=str(b.id),
            amount=Decimal("1"),
            reference="first-ref",
            metadata={"order": "42"},
        ),
        BatchItem(
            from_account_id=str(a.id),
            to_account_id=str(c.id),
            amount=Decimal("2.50"),
            reference="second-ref",
        ),
    ]
    return batch_create(initiator=user, items=items, idempotency_key="admin-batch").batch


def test_a_batch_page_lists_its_items_in_order(system_user, posted):
    page = _client(system_user).get(f"/admin/transactions/batch/{posted.id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "admin-batch" in html and "COMPLETED" in html
    assert html.index("first-ref") < html.index("second-ref")
    assert "2.50 INR" in html


def test_batches_are_listed_and_found_by_key(system_user, posted):
    client = _client(system_user)
    assert str(posted.id) in client.get("/admin/transactions/batch/").content.decode()
    found = client.get("/admin/transactions/batch/", {"q": "admin-batch"})
    assert found.context["cl"].result_count == 1
    assert client.get("/admin/transactions/batch/", {"q": "nope"}).context["cl"].result_count == 0


def test_batches_are_read_only(system_user, posted):
    client = _client(system_user)
    assert client.get("/admin/transactions/batch/add/").status_code == 403
    client.post(f"/admin/transactions/batch/{posted.id}/delete/", {"post": "yes"})
    assert Batch.objects.filter(id=posted.id).exists()


@pytest.mark.parametrize(
    ("query", "count"),
    [("first-ref", 1), ("first", 0), ("order=42", 1), ("order=4", 0), ("order=42 x=y", 0)],
)
def test_transactions_are_found_by_reference_and_metadata(system_user, posted, query, count):
    changelist = _client(system_user).get("/admin/transactions/transaction/", {"q": query})
    assert changelist.context["cl"].result_count == count

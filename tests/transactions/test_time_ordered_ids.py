"""The rows written per movement get time-ordered (version 7) ids, so the indexes they lead
grow at their end: transactions, batches, holds, their events and emails. Ids
made one after the other sort in the order they were made, even within one millisecond."""

import pytest

from bankledger.core.ids import new_id
from bankledger.events.models import Event
from bankledger.mail.services import email_create
from tests.holds.helpers import hold
from tests.transactions.helpers import transfer
from transactions.models import Batch
from transactions.services import BatchItem, batch_create

pytestmark = pytest.mark.django_db


def test_ids_made_in_a_row_sort_in_that_order():
    made = [new_id() for _ in range(2000)]
    assert {key.version for key in made} == {7}
    assert sorted(made) == made
    assert len(set(made)) == len(made)


def test_movements_and_what_they_write_get_time_ordered_ids(user, make_user, make_account, fund):
    payer, payee = make_account(user), make_account(make_user())
    fund(payer, "100")
    first, second = transfer(payer, payee, "1"), transfer(payer, payee, "2")
    batch = batch_create(
        initiator=payer.user,
        items=[BatchItem(from_account_id=str(payer.id), to_account_id=str(payee.id), amount=1)] * 3,
        idempotency_key="ordered",
    )
    held = hold(payer, payee, "3")
    items = [row.id for row in batch.items]
    assert {key.version for key in (first.id, second.id, *items)} == {7}
    assert first.id < second.id < items[0] < items[1] < items[2]
    assert Batch.objects.get().id.version == held.id.version == 7
    events = list(Event.objects.order_by("id").values_list("uid", flat=True))
    assert len(events) >= 6
    assert {uid.version for uid in events} == {7}
    assert events == sorted(events)
    welcome = {"name": "A", "email": "a@example.com"}
    emails = [
        email_create(key=f"k{i}", to="a@example.com", template="emails/welcome", context=welcome)
        for i in range(3)
    ]
    assert [email.id.version for email in emails] == [7, 7, 7]
    assert sorted(email.id for email in emails) == [email.id for email in emails]

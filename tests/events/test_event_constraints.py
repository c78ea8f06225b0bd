"""Rules every event row obeys in the database itself, proven around Python with raw SQL and
`.update()`."""

import pytest
from django.db import IntegrityError, InternalError, transaction

from bankledger.events.models import Event
from bankledger.events.services import events_record, events_sequence
from bankledger.events.types import NewEvent

pytestmark = pytest.mark.django_db(transaction=True)
REFUSED = (IntegrityError, InternalError)


@pytest.fixture
def numbered():
    events_record(events=[NewEvent(type="account.created", data={"n": n}) for n in range(2)])
    events_sequence()
    return list(Event.objects.order_by("seq"))


@pytest.mark.parametrize(
    "change",
    [{"type": "account.closed"}, {"data": {"n": 9}}, {"seq": 99}, {"audience": ["x"]}],
    ids=lambda c: next(iter(c)),
)
def test_a_numbered_event_cannot_be_changed(numbered, change):
    with pytest.raises(REFUSED), transaction.atomic():
        Event.objects.filter(id=numbered[0].id).update(**change)


def test_an_unnumbered_event_may_only_get_its_seq(numbered):
    events_record(events=[NewEvent(type="account.created", data={})])
    fresh = Event.objects.get(seq__isnull=True)
    with pytest.raises(REFUSED), transaction.atomic():
        Event.objects.filter(id=fresh.id).update(type="account.frozen")
    with pytest.raises(REFUSED), transaction.atomic():
        Event.objects.filter(id=fresh.id).update(seq=numbered[0].seq)  # unique
    with pytest.raises(REFUSED), transaction.atomic():
        Event.objects.filter(id=fresh.id).update(seq=0)  # positive


def test_unknown_types_are_refused():
    with pytest.raises(REFUSED), transaction.atomic():
        events_record(events=[NewEvent(type="account.hacked", data={})])

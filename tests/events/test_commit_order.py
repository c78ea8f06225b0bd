"""The poller's promise (API.md "Events"): polling with `after=nextAfter` never misses an
event, even when database transactions commit in another order than they started. One
transaction is held open after writing its event while later ones commit and are read."""

import threading

import pytest
from django.db import connection, transaction

from accounts.services import account_create
from bankledger.events.models import Event
from tests.events.test_events_api import poll

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def concurrent_writers():
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite takes the write lock at BEGIN: no transaction commits while one is open"
        )


def _hold_open(user, written: threading.Event, release: threading.Event):
    try:
        with transaction.atomic():
            account_create(user=user)
            written.set()
            release.wait(30)
    finally:
        connection.close()


def test_an_event_that_commits_late_is_still_seen_exactly_once(
    concurrent_writers, make_user, make_account
):
    alice = make_user()
    make_account(alice)
    written, release = threading.Event(), threading.Event()
    held = threading.Thread(target=_hold_open, args=(alice, written, release))
    held.start()
    assert written.wait(30)
    later = [make_account(alice) for _ in range(3)]  # these commit while the first is open

    first = poll(alice)
    release.set()
    held.join(30)
    second = poll(alice, after=first["nextAfter"])

    late_account = {e["data"]["_id"] for e in second["events"]}
    assert len(second["events"]) == 1 and not late_account & {str(a.id) for a in later}
    seen = [e["_id"] for e in first["events"] + second["events"]]
    seqs = [e["seq"] for e in first["events"] + second["events"]]
    assert len(seen) == len(set(seen)) == Event.objects.count() == 5
    assert seqs == sorted(seqs)
    # The late event was written first (a lower row id): numbering by insertion would have put
    # it below `nextAfter` of the first poll, and the poller would have skipped it for good.
    rows = {str(e.uid): e for e in Event.objects.all()}
    late = rows[second["events"][0]["_id"]]
    assert all(late.id < rows[e["_id"]].id for e in first["events"][1:])
    assert late.seq > first["nextAfter"]

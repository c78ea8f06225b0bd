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
    concurrent_writers, make_user, make_account, system_user
):
    # The held writer and the later ones are different users: opening an account locks its
    # owner's row (the accounts quota), and the later writers must not wait for the held one.
    alice, bob = make_user(), make_user()
    make_account(alice)
    written, release = threading.Event(), threading.Event()
    held = threading.Thread(target=_hold_open, args=(alice, written, release))
    held.start()
    assert written.wait(30)
    later = [make_account(bob) for _ in range(3)]  # these commit while the first is open

    first = poll(system_user)  # a system user sees every event
    release.set()
    held.join(30)
    second = poll(system_user, after=first["nextAfter"])

    later_ids = {str(a.id) for a in later}
    assert len(second["events"]) == 1
    assert second["events"][0]["data"]["_id"] not in later_ids
    seen = [e["_id"] for e in first["events"] + second["events"]]
    seqs = [e["seq"] for e in first["events"] + second["events"]]
    assert len(seen) == len(set(seen)) == Event.objects.count()
    assert seqs == sorted(seqs)
    # The late event was written before the later ones (a lower row id): numbering by insertion
    # would have put it below `nextAfter` of the first poll, and the poller would have skipped
    # it for good.
    rows = {str(e.uid): e for e in Event.objects.all()}
    late = rows[second["events"][0]["_id"]]
    later_events = [e for e in first["events"] if e["data"].get("_id") in later_ids]
    assert len(later_events) == 3
    assert all(late.id < rows[e["_id"]].id for e in later_events)
    assert late.seq > first["nextAfter"]

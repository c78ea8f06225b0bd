"""`GET /events`: what is recorded, who sees it, and paging by `seq`."""

from decimal import Decimal

import pytest
from django.db import transaction

from accounts.services import account_freeze
from bankledger.events.models import Event
from bankledger.events.services import events_sequence
from tests.conftest import client_for
from transactions.services import transfer_create

pytestmark = pytest.mark.django_db(transaction=True)


def poll(user, after=0, **params):
    events_sequence()
    response = client_for(user).get("/api/events", {"after": after, **params})
    assert response.status_code == 200, response.content
    return response.json()


def types(page):
    return [event["type"] for event in page["events"]]


def test_a_transfer_is_seen_by_both_owners_as_the_api_renders_it(make_user, make_account, fund):
    alice, bob = make_user(), make_user()
    alices, bobs = make_account(alice), make_account(bob)
    fund(alices, "10.00")
    sent = client_for(alice).post(
        "/api/transactions",
        {
            "fromAccount": str(alices.id),
            "toAccount": str(bobs.id),
            "amount": "2.50",
            "idempotencyKey": "k",
        },
        format="json",
    )

    alice_sees, bob_sees = poll(alice), poll(bob)

    assert types(alice_sees) == [
        "account.created",
        "transaction.completed",
        "transaction.completed",
    ]
    assert types(bob_sees) == ["account.created", "transaction.completed"]
    event = bob_sees["events"][-1]
    assert event["data"] == sent.json()["transaction"]
    assert set(event) == {"_id", "seq", "type", "createdAt", "data"}
    assert bob_sees["nextAfter"] == event["seq"]


def test_paging_by_after_sees_every_event_once_in_seq_order(make_user, make_account):
    alice = make_user()
    for _ in range(5):
        make_account(alice)

    first = poll(alice, limit=2)
    second = poll(alice, after=first["nextAfter"], limit=2)
    third = poll(alice, after=second["nextAfter"], limit=2)
    empty = poll(alice, after=third["nextAfter"])

    seqs = [e["seq"] for page in (first, second, third) for e in page["events"]]
    assert len(seqs) == 5 and seqs == sorted(set(seqs))
    assert empty == {"events": [], "nextAfter": third["nextAfter"]}


def test_type_filters_and_bad_parameters_are_400(make_user, make_account, system_user):
    alice = make_user()
    account = make_account(alice)
    account_freeze(account_id=str(account.id), actor=system_user)

    assert types(poll(alice, type="account.frozen")) == ["account.frozen"]
    client = client_for(alice)
    for params in ({"type": "nope"}, {"after": -1}, {"limit": 0}, {"limit": 101}, {"after": "x"}):
        response = client.get("/api/events", params)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_input"


def test_a_user_never_sees_another_users_events_and_a_system_user_sees_all(
    make_user, make_account, system_user
):
    alice, mallory = make_user(), make_user()
    make_account(alice)
    make_account(mallory)

    assert [e["data"]["user"] for e in poll(mallory)["events"]] == [str(mallory.id)]
    everyone = {e["data"]["user"] for e in poll(system_user, limit=100)["events"]}
    assert {str(alice.id), str(mallory.id)} <= everyone


def test_status_changes_write_their_events(make_user, make_account, system_user):
    alice = make_user()
    account = make_account(alice)
    client = client_for(system_user)
    for action in ("freeze", "unfreeze", "close"):
        assert client.post(f"/api/accounts/{account.id}/{action}").status_code == 200

    page = poll(alice)
    assert types(page) == [
        "account.created",
        "account.frozen",
        "account.unfrozen",
        "account.closed",
    ]
    assert page["events"][-1]["data"]["status"] == "CLOSED"


def test_refused_and_rolled_back_requests_leave_no_event_but_a_recorded_refusal_does(
    make_user, make_account, fund
):
    alice, bob = make_user(), make_user()
    alices, bobs = make_account(alice), make_account(bob)
    fund(alices, "10.00")
    client = client_for(alice)
    before = Event.objects.count()

    # Refused before anything is recorded: malformed, unknown account, not the caller's.
    for body in (
        {"fromAccount": str(alices.id), "toAccount": str(bobs.id), "amount": "-1"},
        {"fromAccount": str(alices.id), "toAccount": "nope", "amount": "1"},
        {"fromAccount": str(bobs.id), "toAccount": str(alices.id), "amount": "1"},
    ):
        assert client.post(
            "/api/transactions", {**body, "idempotencyKey": "x"}, format="json"
        ).status_code in (400, 403)
    with pytest.raises(RuntimeError), transaction.atomic():
        transfer_create(
            initiator=alice,
            from_account_id=str(alices.id),
            to_account_id=str(bobs.id),
            amount=Decimal("1"),
            idempotency_key="rolled-back",
        )
        raise RuntimeError("something after the transfer failed")
    assert Event.objects.count() == before

    refused = client.post(
        "/api/transactions",
        {
            "fromAccount": str(alices.id),
            "toAccount": str(bobs.id),
            "amount": "99",
            "idempotencyKey": "too-much",
        },
        format="json",
    )
    assert refused.status_code == 400
    assert types(poll(alice))[-1] == "transaction.failed"
    assert poll(alice)["events"][-1]["data"] == refused.json()["transaction"]
    assert "transaction.failed" not in types(poll(bob))


def test_a_reversal_writes_the_reversal_and_the_reversed_original(
    make_user, make_account, fund, system_user
):
    alice, bob = make_user(), make_user()
    alices, bobs = make_account(alice), make_account(bob)
    fund(alices, "10.00")
    original = transfer_create(
        initiator=alice,
        from_account_id=str(alices.id),
        to_account_id=str(bobs.id),
        amount=Decimal("3"),
        idempotency_key="o",
    ).transaction
    client_for(system_user).post(
        f"/api/transactions/{original.id}/reverse",
        {"idempotencyKey": "r", "reason": "mistake"},
        format="json",
    )

    completed, reversed_ = poll(bob)["events"][-2:]
    assert completed["type"] == "transaction.completed"
    assert completed["data"]["kind"] == "REVERSAL"
    assert reversed_["type"] == "transaction.reversed"
    assert reversed_["data"]["_id"] == str(original.id)
    assert reversed_["data"]["status"] == "REVERSED"

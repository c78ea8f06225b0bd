"""Idempotency keys (API.md): replay, conflicts, the header, scope, and what is recorded."""

import pytest

from accounts.models import Account
from tests.conftest import client_for
from transactions.models import Transaction

URL = "/api/transactions"


@pytest.fixture
def pair(user, make_account, fund):
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "100")
    return sender, receiver


def body(pair, amount="10", key="key-1"):
    sender, receiver = pair
    return {
        "fromAccount": str(sender.id),
        "toAccount": str(receiver.id),
        "amount": amount,
        "idempotencyKey": key,
    }


def balance(account):
    return Account.objects.get(id=account.id).balance


def test_replay_of_a_completed_key_is_200_with_the_same_transaction(api, pair):
    first = api.post(URL, body(pair), format="json")
    again = api.post(URL, body(pair, amount="10.00"), format="json")  # same amount in minor units
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["message"] == "Transaction already processed"
    assert again.json()["transaction"] == first.json()["transaction"]
    assert balance(pair[0]) == 9000
    assert Transaction.objects.filter(kind="TRANSFER").count() == 1


@pytest.mark.parametrize(
    "change", [{"amount": "11"}, {"amount": "10.01"}, {"toAccount": "other"}, {"swap": True}]
)
def test_same_key_with_a_different_body_is_409(api, pair, user, make_account, change):
    api.post(URL, body(pair), format="json")
    different = body(pair)
    if "amount" in change:
        different["amount"] = change["amount"]
    elif "swap" in change:
        different["fromAccount"], different["toAccount"] = (
            different["toAccount"],
            different["fromAccount"],
        )
    else:
        different["toAccount"] = str(make_account(user).id)
    response = api.post(URL, different, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert balance(pair[0]) == 9000


def test_key_may_come_in_the_header(api, pair):
    data = body(pair)
    del data["idempotencyKey"]
    first = api.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="hdr-1")
    again = api.post(URL, body(pair, key="hdr-1"), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["transaction"]["idempotencyKey"] == "hdr-1"


def test_header_and_body_keys_that_differ_are_400(api, pair):
    response = api.post(URL, body(pair), format="json", HTTP_IDEMPOTENCY_KEY="other")
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_mismatch"
    assert not Transaction.objects.filter(kind="TRANSFER").exists()


def test_header_and_body_keys_that_agree_are_fine(api, pair):
    response = api.post(URL, body(pair), format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert response.status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, None, 5.5, ["k"]])
def test_bad_keys_are_400(api, pair, key):
    response = api.post(URL, body(pair, key=key), format="json")
    assert response.status_code == 400
    assert not Transaction.objects.filter(kind="TRANSFER").exists()


def test_a_255_character_key_is_fine(api, pair):
    assert api.post(URL, body(pair, key="k" * 255), format="json").status_code == 201


def test_keys_are_scoped_to_the_calling_user(api, pair, make_user, make_account, fund):
    other = make_user()
    theirs = (make_account(other), make_account(other))
    fund(theirs[0], "100")
    mine = api.post(URL, body(pair, key="shared"), format="json")
    their = client_for(other).post(URL, body(theirs, key="shared"), format="json")
    assert (mine.status_code, their.status_code) == (201, 201)
    assert mine.json()["transaction"]["_id"] != their.json()["transaction"]["_id"]


def test_failed_key_replays_its_failure_even_after_the_cause_is_gone(api, pair, fund):
    first = api.post(URL, body(pair, amount="500"), format="json")
    assert first.status_code == 400 and first.json()["code"] == "insufficient_funds"
    fund(pair[0], "1000")
    again = api.post(URL, body(pair, amount="500"), format="json")
    assert again.status_code == 400
    assert again.json() == first.json()
    assert balance(pair[1]) == 0
    fresh = api.post(URL, body(pair, amount="500", key="key-2"), format="json")
    assert fresh.status_code == 201


def test_failed_not_active_key_replays_after_unfreezing(api, pair):
    Account.objects.filter(id=pair[1].id).update(status="FROZEN")
    first = api.post(URL, body(pair), format="json")
    Account.objects.filter(id=pair[1].id).update(status="ACTIVE")
    again = api.post(URL, body(pair), format="json")
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()
    assert again.json()["transaction"]["status"] == "FAILED"


@pytest.mark.parametrize("mistake", ["amount", "unknown_account", "not_owner"])
def test_unrecorded_errors_leave_the_key_usable(api, pair, make_user, make_account, mistake):
    bad = body(pair)
    if mistake == "amount":
        bad["amount"] = "1.001"
    elif mistake == "unknown_account":
        bad["toAccount"] = "00000000-0000-0000-0000-000000000000"
    else:
        bad["fromAccount"] = str(make_account(make_user()).id)
    assert api.post(URL, bad, format="json").status_code in (400, 403)
    assert api.post(URL, body(pair), format="json").status_code == 201


def test_replay_of_a_reversed_transaction(api, pair):
    first = api.post(URL, body(pair), format="json").json()["transaction"]
    Transaction.objects.filter(id=first["_id"]).update(status="REVERSED")
    again = api.post(URL, body(pair), format="json")
    assert again.status_code == 200
    assert again.json()["message"] == "Transaction was reversed"
    assert again.json()["transaction"]["status"] == "REVERSED"


def test_the_database_refuses_a_duplicate_key(api, pair, user):
    from django.db import IntegrityError, transaction

    api.post(URL, body(pair), format="json")
    original = Transaction.objects.get(idempotency_key="key-1")
    original.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        original.save(force_insert=True)

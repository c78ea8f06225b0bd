"""The holds API (API.md "Holds"): create, capture, void, list, detail; who may do what; the
available balance; refusals recorded and replayed; idempotency."""

import pytest

from accounts.models import Account
from ledger.models import Hold
from ledger.selectors import ledger_verify
from tests.conftest import client_for
from tests.holds.helpers import expired_hold, hold
from transactions.models import Transaction

pytestmark = pytest.mark.django_db


def _create(client, payer, payee, amount="30", key="h1", **extra):
    body = {
        "fromAccount": str(payer.id),
        "toAccount": str(payee.id),
        "amount": amount,
        "idempotencyKey": key,
        **extra,
    }
    return client.post("/api/holds", body, format="json")


def _balance(client, account):
    return client.get(f"/api/accounts/balance/{account.id}").json()


def test_a_hold_reserves_money_without_moving_it(api, parties):
    payer, payee = parties
    response = _create(api, payer, payee, reference="order-1", metadata={"k": "v"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "Hold created"
    held = body["hold"]
    assert held["status"] == "PENDING" and held["amount"] == "30.00"
    assert held["capturedAmount"] is None and held["transaction"] is None
    assert held["reference"] == "order-1" and held["metadata"] == {"k": "v"}
    assert _balance(api, payer) == {
        "accountId": str(payer.id),
        "balance": "100.00",
        "currency": "INR",
        "held": "30.00",
        "available": "70.00",
    }


def test_same_key_replays_and_another_body_is_409(api, parties):
    payer, payee = parties
    first = _create(api, payer, payee).json()["hold"]
    again = _create(api, payer, payee)
    assert again.status_code == 200 and again.json()["message"] == "Hold already processed"
    assert again.json()["hold"]["_id"] == first["_id"]
    assert _create(api, payer, payee, amount="31").status_code == 409
    assert _create(api, payer, payee, expiresIn=60).status_code == 409
    assert Hold.objects.count() == 1


def test_a_hold_beyond_available_is_refused_recorded_and_replayed(api, parties):
    payer, payee = parties
    assert _create(api, payer, payee, amount="80", key="a").status_code == 201
    refused = _create(api, payer, payee, amount="30", key="b")
    assert refused.status_code == 400
    assert refused.json()["code"] == "insufficient_funds"
    assert refused.json()["hold"]["status"] == "FAILED"
    Hold.objects.filter(idempotency_key="a").update(status="VOIDED", voided_by=payee.user)
    replay = _create(api, payer, payee, amount="30", key="b")
    assert replay.status_code == 400 and replay.json()["hold"] == refused.json()["hold"]


def test_transfers_spend_only_what_is_available(api, parties):
    payer, payee = parties
    _create(api, payer, payee, amount="60")
    body = {"fromAccount": str(payer.id), "toAccount": str(payee.id), "idempotencyKey": "t"}
    refused = api.post("/api/transactions", {**body, "amount": "50"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "insufficient_funds"
    body["idempotencyKey"] = "t2"
    assert api.post("/api/transactions", {**body, "amount": "40"}, format="json").status_code == 201


def test_capture_in_part_posts_a_capture_transaction_and_releases_the_rest(parties):
    payer, payee = parties
    created = _create(client_for(payer.user), payer, payee).json()["hold"]
    payee_api = client_for(payee.user)
    url = f"/api/holds/{created['_id']}/capture"
    response = payee_api.post(url, {"idempotencyKey": "c", "amount": "20"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["hold"]["status"] == "CAPTURED" and body["hold"]["capturedAmount"] == "20.00"
    assert body["transaction"]["kind"] == "CAPTURE"
    assert body["transaction"]["hold"] == created["_id"]
    assert body["hold"]["transaction"] == body["transaction"]["_id"]
    assert _balance(client_for(payer.user), payer)["available"] == "80.00"
    assert Account.objects.get(id=payee.id).balance == 2000
    replay = payee_api.post(url, {"idempotencyKey": "c", "amount": "20"}, format="json")
    assert replay.status_code == 200
    assert replay.json()["transaction"]["_id"] == body["transaction"]["_id"]
    second = payee_api.post(url, {"idempotencyKey": "c2"}, format="json")
    assert second.status_code == 400 and second.json()["code"] == "hold_not_pending"
    assert second.json()["transaction"]["status"] == "FAILED"
    assert ledger_verify().ok


@pytest.mark.parametrize(
    ("amount", "code"),
    [("0", "invalid_input"), ("30.01", "invalid_amount"), ("1.001", "invalid_amount")],
)
def test_capture_amount_out_of_range_is_refused_and_changes_nothing(api, parties, amount, code):
    payer, payee = parties
    created = _create(api, payer, payee).json()["hold"]
    url = f"/api/holds/{created['_id']}/capture"
    response = api.post(url, {"idempotencyKey": "c", "amount": amount}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code, response.json()
    assert Hold.objects.get(id=created["_id"]).status == "PENDING"


def test_who_may_do_what(parties, make_user, system_user):
    payer, payee = parties
    payer_api, payee_api = client_for(payer.user), client_for(payee.user)
    stranger = client_for(make_user())
    created = _create(payer_api, payer, payee).json()["hold"]
    base = f"/api/holds/{created['_id']}"
    assert stranger.get(base).status_code == 404
    assert (
        stranger.post(f"{base}/capture", {"idempotencyKey": "x"}, format="json").status_code == 404
    )
    assert stranger.post(f"{base}/void", {"idempotencyKey": "x"}, format="json").status_code == 404
    refused = payer_api.post(f"{base}/void", {"idempotencyKey": "x"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "not_allowed"
    assert payee_api.get(base).status_code == 200
    assert client_for(system_user).get(base).status_code == 200
    # Only the payer's owner creates.
    assert _create(payee_api, payer, payee, key="other").status_code == 403
    voided = payee_api.post(f"{base}/void", {"idempotencyKey": "v"}, format="json")
    assert voided.status_code == 200 and voided.json()["hold"]["status"] == "VOIDED"
    again = payee_api.post(f"{base}/void", {"idempotencyKey": "v"}, format="json")
    assert again.status_code == 200 and again.json() == voided.json()
    other_key = payee_api.post(f"{base}/void", {"idempotencyKey": "v2"}, format="json")
    assert other_key.status_code == 400 and other_key.json()["code"] == "hold_not_pending"
    capture = payer_api.post(f"{base}/capture", {"idempotencyKey": "c"}, format="json")
    assert capture.status_code == 400 and capture.json()["code"] == "hold_not_pending"
    assert _balance(payer_api, payer)["held"] == "0.00"


def test_a_void_key_used_on_another_hold_is_409(parties):
    payer, payee = parties
    payee_api = client_for(payee.user)
    first, second = hold(payer, payee, "10"), hold(payer, payee, "10")
    assert (
        payee_api.post(
            f"/api/holds/{first.id}/void", {"idempotencyKey": "v"}, format="json"
        ).status_code
        == 200
    )
    response = payee_api.post(
        f"/api/holds/{second.id}/void", {"idempotencyKey": "v"}, format="json"
    )
    assert response.status_code == 409
    assert Hold.objects.get(id=second.id).status == "PENDING"


def test_an_expired_hold_stops_counting_and_cannot_be_captured(api, parties):
    payer, payee = parties
    created = hold(payer, payee, "90")
    Hold.objects.filter(id=created.id).update(status="VOIDED", voided_by=payee.user)
    past = expired_hold(payer, payee, 9000)
    assert _balance(api, payer)["available"] == "100.00"
    url = f"/api/holds/{past.id}/capture"
    response = client_for(payee.user).post(url, {"idempotencyKey": "c"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "hold_expired"
    assert api.get(f"/api/holds/{past.id}").json()["hold"]["status"] == "EXPIRED"
    assert Account.objects.get(id=payee.id).balance == 0
    assert Transaction.objects.filter(kind="CAPTURE", status="COMPLETED").count() == 0


def test_list_newest_first_with_filters_and_cursor(api, parties, make_account, user, fund):
    payer, payee = parties
    ids = [hold(payer, payee, "1").id for _ in range(3)]
    page = api.get("/api/holds", {"limit": 2}).json()
    assert [h["_id"] for h in page["holds"]] == [str(ids[2]), str(ids[1])]
    rest = api.get("/api/holds", {"limit": 2, "cursor": page["nextCursor"]}).json()
    assert [h["_id"] for h in rest["holds"]] == [str(ids[0])] and rest["nextCursor"] is None
    other = make_account(user)
    fund(other, "10")
    elsewhere = hold(other, payee, "1").id

    def listed(**params):
        return sorted(h["_id"] for h in api.get("/api/holds", params).json()["holds"])

    assert listed(status="PENDING", account=str(payer.id)) == sorted(map(str, ids))
    assert listed(account=str(other.id)) == [str(elsewhere)]
    assert api.get("/api/holds", {"status": "VOIDED"}).json()["holds"] == []
    assert api.get("/api/holds/", {"limit": 1}).status_code == 200
    assert api.get("/api/holds/not-an-id").status_code == 404


def test_frozen_payee_refuses_create_and_capture(api, parties, system_user):
    from accounts.services import account_freeze, account_unfreeze

    payer, payee = parties
    created = hold(payer, payee, "10")
    account_freeze(account_id=str(payee.id), actor=system_user)
    refused = _create(api, payer, payee, key="f")
    assert refused.status_code == 400 and refused.json()["code"] == "account_not_active"
    url = f"/api/holds/{created.id}/capture"
    capture = api.post(url, {"idempotencyKey": "c"}, format="json")
    assert capture.status_code == 400 and capture.json()["code"] == "account_not_active"
    account_unfreeze(account_id=str(payee.id), actor=system_user)
    assert (
        api.post(url, {"idempotencyKey": "c"}, format="json").json()["code"] == "account_not_active"
    )
    assert api.post(url, {"idempotencyKey": "c3"}, format="json").status_code == 201

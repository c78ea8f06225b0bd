"""POST /api/transactions: the happy path and every error row of API.md."""

import uuid

import pytest

from accounts.models import Account
from ledger.models import LedgerEntry
from tests.conftest import client_for
from transactions.models import Transaction

URL = "/api/transactions"


@pytest.fixture
def accounts(user, make_account, fund):
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "1000.00")
    return sender, receiver


def body(sender, receiver, amount="100.00", key="k-1"):
    return {
        "fromAccount": str(sender.id),
        "toAccount": str(receiver.id),
        "amount": amount,
        "idempotencyKey": key,
    }


def balances(*accounts):
    return [Account.objects.get(id=a.id).balance for a in accounts]


def test_transfer_moves_money_and_writes_one_debit_and_one_credit(api, accounts):
    sender, receiver = accounts
    response = api.post(URL, body(sender, receiver, "250.50"), format="json")
    assert response.status_code == 201, response.json()
    payload = response.json()
    assert payload["message"] == "Transaction completed successfully"
    tx = payload["transaction"]
    assert set(tx) >= {
        "_id", "fromAccount", "toAccount", "amount", "currency", "status",
        "idempotencyKey", "createdAt", "updatedAt",
    }  # fmt: skip
    assert tx["amount"] == "250.50" and tx["status"] == "COMPLETED" and tx["currency"] == "INR"
    assert (tx["fromAccount"], tx["toAccount"]) == (str(sender.id), str(receiver.id))
    assert tx["idempotencyKey"] == "k-1"
    entries = LedgerEntry.objects.filter(transaction_id=tx["_id"])
    assert sorted((e.type, e.account_id, e.amount, e.balance_after) for e in entries) == [
        ("CREDIT", receiver.id, 25050, 25050),
        ("DEBIT", sender.id, 25050, 74950),
    ]
    assert balances(sender, receiver) == [74950, 25050]


def test_receiver_may_belong_to_someone_else(api, accounts, make_user, make_account):
    sender, _ = accounts
    theirs = make_account(make_user())
    assert api.post(URL, body(sender, theirs), format="json").status_code == 201
    assert balances(theirs) == [10000]


@pytest.mark.parametrize("missing", ["fromAccount", "toAccount", "amount", "idempotencyKey"])
def test_missing_field_is_400(api, accounts, missing):
    data = body(*accounts)
    del data[missing]
    response = api.post(URL, data, format="json")
    assert response.status_code == 400
    assert missing in response.json()["errors"]
    assert not Transaction.objects.filter(kind="TRANSFER").exists()


def test_same_account_is_400(api, accounts):
    sender, _ = accounts
    response = api.post(URL, body(sender, sender), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "same_account"


@pytest.mark.parametrize("which", ["fromAccount", "toAccount"])
@pytest.mark.parametrize("bad_id", [lambda: str(uuid.uuid4()), lambda: "nope", lambda: 12])
def test_unknown_or_malformed_account_is_400_and_not_recorded(api, accounts, which, bad_id):
    data = body(*accounts, key="unknown")
    data[which] = bad_id()
    response = api.post(URL, data, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid fromAccount or toAccount",
        "code": "invalid_account",
    }
    assert not Transaction.objects.filter(idempotency_key="unknown").exists()


def test_sending_from_someone_elses_account_is_403_and_not_recorded(accounts, make_user):
    sender, receiver = accounts
    response = client_for(make_user()).post(URL, body(sender, receiver, key="steal"), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_account"
    assert not Transaction.objects.filter(idempotency_key="steal").exists()
    assert balances(sender) == [100000]


@pytest.mark.parametrize("frozen", ["sender", "receiver"])
@pytest.mark.parametrize("status", ["FROZEN", "CLOSED"])
def test_account_not_active_is_400_and_recorded_failed(
    api, accounts, frozen, status, make_account, user
):
    sender, receiver = accounts
    target = sender if frozen == "sender" else receiver
    if status == "CLOSED" and frozen == "sender":
        target = sender = make_account(user)  # a closed account holds nothing
    Account.objects.filter(id=target.id).update(status=status)
    response = api.post(URL, body(sender, receiver, "1"), format="json")
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "account_not_active"
    assert payload["transaction"]["status"] == "FAILED"
    assert not LedgerEntry.objects.filter(transaction_id=payload["transaction"]["_id"]).exists()


def test_currency_mismatch_is_400_and_recorded_failed(api, accounts, user, make_account):
    sender, _ = accounts
    dollars = make_account(user, "USD")
    response = api.post(URL, body(sender, dollars, "1"), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "currency_mismatch"
    assert response.json()["transaction"]["status"] == "FAILED"
    assert balances(sender, dollars) == [100000, 0]


def test_insufficient_balance_is_400_and_recorded_failed(api, accounts):
    sender, receiver = accounts
    response = api.post(URL, body(sender, receiver, "1000.01"), format="json")
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "insufficient_funds"
    assert payload["message"]
    assert payload["transaction"]["status"] == "FAILED"
    assert payload["transaction"]["amount"] == "1000.01"
    assert balances(sender, receiver) == [100000, 0]


def test_whole_balance_can_be_sent(api, accounts):
    sender, receiver = accounts
    assert api.post(URL, body(sender, receiver, "1000"), format="json").status_code == 201
    assert balances(sender, receiver) == [0, 100000]


def test_transfers_need_authentication(client_anon, accounts):
    response = client_anon.post(URL, body(*accounts), format="json")
    assert response.status_code == 401


def test_every_missing_or_invalid_field_is_reported_in_one_400(api, accounts):
    sender, receiver = accounts
    sent = {"fromAccount": str(sender.id), "toAccount": str(receiver.id)}
    response = api.post(URL, sent, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"amount", "idempotencyKey"}

    response = api.post(URL, {"amount": "1.001x", "idempotencyKey": "k" * 256}, format="json")
    assert set(response.json()["errors"]) == {
        "fromAccount",
        "toAccount",
        "amount",
        "idempotencyKey",
    }
    assert not Transaction.objects.filter(kind="TRANSFER").exists()


def test_a_key_in_the_header_counts_while_other_fields_are_reported(api, accounts):
    sender, receiver = accounts
    sent = {"fromAccount": str(sender.id), "toAccount": str(receiver.id)}
    response = api.post(URL, sent, format="json", HTTP_IDEMPOTENCY_KEY="hdr")
    assert set(response.json()["errors"]) == {"amount"}

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


def _body(sender, receiver, amount="100.00", key="k-1"):
    return {
        "fromAccount": str(sender.id),
        "toAccount": str(receiver.id),
        "amount": amount,
        "idempotencyKey": key,
    }


def test_transfer_moves_money_and_writes_one_debit_and_one_credit(api, accounts):
    sender, receiver = accounts
    response = api.post(URL, _body(sender, receiver, "250.50"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "Transaction completed successfully"
    tx = body["transaction"]
    assert tx["amount"] == "250.50" and tx["status"] == "COMPLETED" and tx["currency"] == "INR"
    assert tx["fromAccount"] == str(sender.id) and tx["toAccount"] == str(receiver.id)
    entries = LedgerEntry.objects.filter(transaction_id=tx["_id"])
    assert sorted((e.type, e.account_id, e.amount) for e in entries) == [
        ("CREDIT", receiver.id, 25050),
        ("DEBIT", sender.id, 25050),
    ]
    sender.refresh_from_db()
    receiver.refresh_from_db()
    assert (sender.balance, receiver.balance) == (74950, 25050)


def test_unknown_account_is_400_and_not_recorded(api, accounts):
    sender, _ = accounts
    body = _body(sender, sender, key="unknown")
    body["toAccount"] = str(uuid.uuid4())
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid fromAccount or toAccount"
    assert not Transaction.objects.filter(idempotency_key="unknown").exists()


@pytest.mark.django_db(transaction=True)
def test_works_in_transactional_tests_too(user, make_account, fund):
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "10")
    response = client_for(user).post(URL, _body(sender, receiver, 10), format="json")
    assert response.status_code == 201
    assert Account.objects.get(id=sender.id).balance == 0

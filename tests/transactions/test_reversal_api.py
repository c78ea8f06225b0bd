"""POST /api/transactions/:id/reverse: the money goes back as a new, linked REVERSAL written
like a transfer; the original becomes REVERSED; every refusal; idempotency; DB constraints."""

import uuid

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Account
from accounts.services import account_freeze
from ledger.exceptions import InsufficientFunds
from ledger.models import LedgerEntry
from ledger.selectors import ledger_verify
from tests.conftest import client_for
from tests.transactions.helpers import transfer
from transactions.models import Transaction


def url(tx):
    return f"/api/transactions/{tx.id}/reverse"


def _body(key="r-1", reason="customer dispute"):
    return {"idempotencyKey": key, "reason": reason}


@pytest.fixture
def paid(user, make_user, make_account, fund):
    """`user` paid 40.00 to a stranger's account."""
    sender = make_account(user)
    receiver = make_account(make_user())
    fund(sender, "100")
    return transfer(sender, receiver, "40"), sender, receiver


def _balance(account):
    return Account.objects.get(id=account.id).balance


def test_reversal_moves_the_money_back_and_marks_the_original(system_api, system_user, paid):
    original, sender, receiver = paid
    response = system_api.post(url(original), _body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "Transaction reversed successfully"
    rev = body["transaction"]
    assert rev["kind"] == "REVERSAL" and rev["status"] == "COMPLETED"
    assert rev["reversalOf"] == str(original.id) and rev["reason"] == "customer dispute"
    assert (rev["fromAccount"], rev["toAccount"]) == (str(receiver.id), str(sender.id))
    assert rev["amount"] == "40.00"
    assert (_balance(sender), _balance(receiver)) == (10000, 0)
    assert Transaction.objects.get(id=original.id).status == "REVERSED"
    entries = LedgerEntry.objects.filter(transaction_id=rev["_id"])
    assert sorted((e.type, e.account_id, e.amount) for e in entries) == [
        ("CREDIT", sender.id, 4000),
        ("DEBIT", receiver.id, 4000),
    ]
    # The original's entries are untouched: corrections are new entries.
    assert LedgerEntry.objects.filter(transaction=original).count() == 2
    assert Transaction.objects.get(id=rev["_id"]).initiator_id == system_user.id
    assert ledger_verify().ok


def test_replaying_the_reversal_key_is_200_and_moves_nothing(system_api, paid):
    original, sender, _ = paid
    first = system_api.post(url(original), _body(), format="json").json()["transaction"]
    again = system_api.post(url(original), _body(), format="json")
    assert again.status_code == 200
    assert again.json()["message"] == "Transaction already processed"
    assert again.json()["transaction"]["_id"] == first["_id"]
    assert _balance(sender) == 10000


def test_same_key_for_another_transaction_is_409(system_api, paid, make_account, user):
    original, sender, _ = paid
    other = transfer(sender, make_account(user), "1")
    assert system_api.post(url(original), _body("k"), format="json").status_code == 201
    response = system_api.post(url(other), _body("k"), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"


def test_the_original_key_replays_as_reversed(system_api, user, paid):
    original, sender, receiver = paid
    system_api.post(url(original), _body(), format="json")
    replay = client_for(user).post(
        "/api/transactions",
        {
            "fromAccount": str(sender.id),
            "toAccount": str(receiver.id),
            "amount": "40",
            "idempotencyKey": original.idempotency_key,
        },
        format="json",
    )
    assert replay.status_code == 200
    assert replay.json()["message"] == "Transaction was reversed"
    assert replay.json()["transaction"]["status"] == "REVERSED"
    assert _balance(sender) == 10000


def test_refused_when_the_receiver_no_longer_holds_the_amount(system_api, paid, make_account):
    original, _, receiver = paid
    transfer(receiver, make_account(receiver.user), "1")
    response = system_api.post(url(original), _body(), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "insufficient_funds"
    assert body["transaction"]["status"] == "FAILED"
    assert body["transaction"]["reversalOf"] == str(original.id)
    assert Transaction.objects.get(id=original.id).status == "COMPLETED"
    assert _balance(receiver) == 3900
    # A recorded refusal replays identically for its key...
    assert system_api.post(url(original), _body(), format="json").json() == body
    # ...and does not block a later reversal under a new key once the money is back.
    transfer(Account.objects.get(id=paid[1].id), receiver, "1")
    assert system_api.post(url(original), _body("r-2"), format="json").status_code == 201


def test_refused_twice(system_api, paid):
    original, *_ = paid
    assert system_api.post(url(original), _body("a"), format="json").status_code == 201
    response = system_api.post(url(original), _body("b"), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "not_reversible"


def test_a_failed_transfer_cannot_be_reversed(system_api, user, make_account):
    empty, other = make_account(user), make_account(user)
    with pytest.raises(InsufficientFunds) as refused:
        transfer(empty, other, "1")
    response = system_api.post(url(refused.value.transaction), _body(), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "not_reversible"


def test_a_reversal_cannot_be_reversed(system_api, paid):
    original, *_ = paid
    rev = system_api.post(url(original), _body("a"), format="json").json()["transaction"]
    response = system_api.post(f"/api/transactions/{rev['_id']}/reverse", _body("b"), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "not_reversible"


def test_refused_when_an_account_is_frozen(system_api, system_user, paid):
    original, sender, _ = paid
    account_freeze(account_id=str(sender.id), actor=system_user)
    response = system_api.post(url(original), _body(), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "account_not_active"


def test_initial_funds_can_be_reversed_back_to_the_funding_account(
    system_api, system_user, user, make_account, fund
):
    account = make_account(user)
    seed = fund(account, "25")
    funding = system_user.accounts.get(is_funding=True)
    response = system_api.post(url(seed), _body(), format="json")
    assert response.status_code == 201
    assert (_balance(account), _balance(funding)) == (0, 0)


def test_only_a_system_user_may_reverse(api, paid):
    original, *_ = paid
    response = api.post(url(original), _body(), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_system_user"
    assert Transaction.objects.get(id=original.id).status == "COMPLETED"


def test_unknown_or_malformed_transaction_is_404(system_api):
    for tx_id in (uuid.uuid4(), "nope"):
        response = system_api.post(f"/api/transactions/{tx_id}/reverse", _body(), format="json")
        assert response.status_code == 404
        assert response.json()["code"] == "transaction_not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"idempotencyKey": "k"},
        {"reason": "x"},
        {"idempotencyKey": "", "reason": "x"},
        {"idempotencyKey": "k", "reason": ""},
    ],
)
def test_reason_and_key_are_required(system_api, paid, body):
    response = system_api.post(url(paid[0]), body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


def _row_back(sender, receiver, **fields) -> dict:
    """The fields of a transaction moving 0.01 back from `receiver` to `sender`, for writing
    rows around the service."""
    return {
        "from_account": receiver,
        "to_account": sender,
        "amount": 1,
        "currency": "INR",
        "status": "COMPLETED",
        "initiator": sender.user,
        "fingerprint": "f",
        **fields,
    }


def test_the_database_refuses_a_reversal_without_a_link_or_a_link_without_the_kind(paid):
    original, sender, receiver = paid
    common = _row_back(sender, receiver)
    bad = [
        {"kind": "REVERSAL", "reason": "x", "idempotency_key": "a"},
        {"kind": "TRANSFER", "reversal_of": original, "idempotency_key": "b"},
        {"kind": "REVERSAL", "reversal_of": original, "reason": "", "idempotency_key": "c"},
    ]
    for extra in bad:
        with pytest.raises(IntegrityError), transaction.atomic():
            Transaction.objects.create(**common, **extra)


def test_the_database_allows_one_reversal_per_original(paid):
    original, sender, receiver = paid
    common = _row_back(sender, receiver, kind="REVERSAL", reversal_of=original, reason="x")
    Transaction.objects.create(**common, idempotency_key="one")
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.create(**common, idempotency_key="two")
    failed = {**common, "status": "FAILED", "failure_code": "insufficient_funds"}
    Transaction.objects.create(**failed, idempotency_key="three")  # failures do not count

"""`POST /transactions/batch` (API.md, "Batches"): all or nothing, items checked in order on
running balances, the first refusal's index and code, recorded and replayed; malformed items are
plain 400s keyed by index and not recorded."""

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.models import Account
from accounts.services import account_freeze
from ledger.models import LedgerEntry
from ledger.selectors import ledger_verify
from tests.conftest import client_for
from transactions.models import Batch, Transaction

URL = "/api/transactions/batch"


@pytest.fixture
def abc(user, make_account, fund):
    """Three of the caller's accounts: A holds 100.00, B and C nothing."""
    a, b, c = make_account(user), make_account(user), make_account(user)
    fund(a, "100")
    return a, b, c


def item(sender, receiver, amount, **extra):
    return {"fromAccount": str(sender.id), "toAccount": str(receiver.id), "amount": amount, **extra}


def batch(*items, key="b1"):
    return {"idempotencyKey": key, "transfers": list(items)}


def balances(*accounts):
    return [Account.objects.get(id=account.id).balance for account in accounts]


def posted_in_batches():
    return Transaction.objects.filter(batch__isnull=False).count()


def test_a_batch_posts_every_item_in_order(api, abc):
    a, b, c = abc
    response = api.post(
        URL,
        batch(item(a, b, "10", reference="r0"), item(a, c, "20.50", metadata={"k": "v"})),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "Batch completed successfully"
    out = body["batch"]
    assert (out["status"], out["idempotencyKey"], out["failureIndex"]) == ("COMPLETED", "b1", None)
    txs = out["transactions"]
    assert [(t["toAccount"], t["amount"], t["batch"]) for t in txs] == [
        (str(b.id), "10.00", out["_id"]),
        (str(c.id), "20.50", out["_id"]),
    ]
    assert [(t["reference"], t["metadata"], t["status"]) for t in txs] == [
        ("r0", {}, "COMPLETED"),
        (None, {"k": "v"}, "COMPLETED"),
    ]
    assert txs[0]["idempotencyKey"] is None
    assert balances(a, b, c) == [6950, 1000, 2050]
    detail = api.get(f"/api/transactions/{txs[1]['_id']}").json()["transaction"]
    assert detail["batch"] == out["_id"]
    assert ledger_verify().ok


def test_an_item_may_spend_what_an_earlier_item_credited(api, abc):
    a, b, c = abc
    chain = [item(a, b, "100"), item(b, c, "60"), item(c, a, "60"), item(b, a, "40")]
    response = api.post(URL, batch(*chain), format="json")
    assert response.status_code == 201, response.json()
    assert balances(a, b, c) == [10000, 0, 0]
    # Each leg records the balance its account had right after it.
    after = LedgerEntry.objects.filter(account=b, transaction__batch__isnull=False).order_by("id")
    assert [(e.type, e.balance_after) for e in after] == [
        ("CREDIT", 10000),
        ("DEBIT", 4000),
        ("DEBIT", 0),
    ]
    assert ledger_verify().ok


def test_the_same_items_in_the_other_order_fail_at_the_first_spend(api, abc):
    a, b, c = abc
    response = api.post(URL, batch(item(b, c, "60"), item(a, b, "100")), format="json")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["index"]) == ("insufficient_funds", 0)


@pytest.mark.parametrize("refused_at", [0, 2, 4])
def test_a_refused_item_at_the_start_middle_or_end_posts_nothing(api, abc, refused_at):
    a, b, c = abc
    items = [item(a, b, "1") for _ in range(5)]
    items[refused_at] = item(c, b, "1")  # C holds nothing
    entries_before = LedgerEntry.objects.count()
    response = api.post(URL, batch(*items), format="json")
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["index"]) == ("insufficient_funds", refused_at)
    assert body["batch"]["status"] == "FAILED"
    assert body["batch"]["failureIndex"] == refused_at
    assert body["batch"]["transactions"] == []
    assert balances(a, b, c) == [10000, 0, 0]
    assert LedgerEntry.objects.count() == entries_before
    assert posted_in_batches() == 0


def test_a_refused_batch_is_recorded_and_replayed_even_once_the_cause_is_gone(api, abc, fund):
    a, b, c = abc
    data = batch(item(a, b, "5"), item(c, a, "5"))
    refused = api.post(URL, data, format="json")
    assert refused.status_code == 400
    fund(c, "10")
    again = api.post(URL, data, format="json")
    assert again.status_code == 400
    assert again.json() == refused.json()
    assert Batch.objects.get().status == "FAILED"
    assert posted_in_batches() == 0
    # A new key posts it.
    assert api.post(URL, {**data, "idempotencyKey": "b2"}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("setup", "code"),
    [("freeze", "account_not_active"), ("currency", "currency_mismatch")],
)
def test_refusal_codes_come_with_the_item_index(
    api, abc, user, make_account, system_user, setup, code
):
    a, b, c = abc
    if setup == "freeze":
        account_freeze(actor=system_user, account_id=str(c.id), reason="test")
        target = c
    else:
        target = make_account(user, currency="USD")
    response = api.post(URL, batch(item(a, b, "1"), item(a, target, "1")), format="json")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["index"]) == (code, 1)
    assert posted_in_batches() == 0


def test_items_may_use_different_currencies(api, abc, user, make_account, fund):
    a, b, _ = abc
    usd1, usd2 = make_account(user, currency="USD"), make_account(user, currency="USD")
    fund(usd1, "3")
    response = api.post(URL, batch(item(a, b, "1"), item(usd1, usd2, "3")), format="json")
    assert response.status_code == 201, response.json()
    assert [t["currency"] for t in response.json()["batch"]["transactions"]] == ["INR", "USD"]
    assert ledger_verify().ok


def test_replay_is_200_with_the_same_batch(api, abc):
    a, b, c = abc
    first = api.post(URL, batch(item(a, b, "1"), item(a, c, "2")), format="json")
    again = api.post(URL, batch(item(a, b, "1.00"), item(a, c, 2)), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["message"] == "Batch already processed"
    assert again.json()["batch"] == first.json()["batch"]
    assert balances(a) == [10000 - 300]


@pytest.mark.parametrize(
    "change",
    [
        lambda a, b, c: [item(a, b, "1"), item(a, c, "3")],
        lambda a, b, c: [item(a, c, "2"), item(a, b, "1")],
        lambda a, b, c: [item(a, b, "1")],
        lambda a, b, c: [item(a, b, "1", reference="r"), item(a, c, "2")],
        lambda a, b, c: [item(a, b, "1"), item(a, c, "2", metadata={"k": "v"})],
    ],
    ids=["amount", "order", "fewer", "reference", "metadata"],
)
def test_same_key_with_other_items_is_409(api, abc, change):
    a, b, c = abc
    assert api.post(URL, batch(item(a, b, "1"), item(a, c, "2")), format="json").status_code == 201
    response = api.post(URL, batch(*change(a, b, c)), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert balances(a) == [10000 - 300]


def test_a_sender_that_is_not_the_callers_is_403_with_its_index_and_not_recorded(
    api, abc, make_user, make_account, fund
):
    a, b, _ = abc
    foreign = make_account(make_user())
    fund(foreign, "10")
    data = batch(item(a, b, "1"), item(foreign, b, "1"))
    response = api.post(URL, data, format="json")
    assert response.status_code == 403
    assert (response.json()["code"], response.json()["index"]) == ("forbidden_account", 1)
    assert not Batch.objects.exists()
    # Not recorded: the key can be used once the batch is corrected.
    assert api.post(URL, batch(item(a, b, "1")), format="json").status_code == 201


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ({"toAccount": "not-a-uuid"}, "invalid_account"),
        ({"toAccount": "00000000-0000-0000-0000-000000000000"}, "invalid_account"),
        ({"toAccount": "SELF"}, "same_account"),
        ({"amount": "1.001"}, "invalid_amount"),
    ],
)
def test_unrecorded_item_refusals_carry_the_index(api, abc, bad, code):
    a, b, c = abc
    wrong = {**item(a, c, "1"), **bad}
    if bad.get("toAccount") == "SELF":
        wrong["toAccount"] = str(a.id)
    response = api.post(URL, batch(item(a, b, "1"), item(a, b, "1"), wrong), format="json")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["index"]) == (code, 2)
    assert not Batch.objects.exists()


@pytest.mark.parametrize(
    ("transfers", "where"),
    [
        ([], "transfers"),
        ("not a list", "transfers"),
        (None, "transfers"),
    ],
)
def test_a_malformed_list_is_400(api, transfers, where):
    response = api.post(URL, {"idempotencyKey": "k", "transfers": transfers}, format="json")
    assert response.status_code == 400
    assert where in response.json()["errors"]


def test_one_to_a_hundred_items(api, abc):
    a, b, _ = abc
    hundred = [item(a, b, "0.01") for _ in range(100)]
    assert api.post(URL, batch(*hundred), format="json").status_code == 201
    response = api.post(URL, batch(*hundred, item(a, b, "0.01"), key="k2"), format="json")
    assert response.status_code == 400
    assert "transfers" in response.json()["errors"]
    assert balances(b) == [100]


def test_malformed_items_are_reported_by_index_and_not_recorded(api, abc):
    a, b, _ = abc
    items = [
        item(a, b, "1"),
        item(a, b, "-1"),
        item(a, b, "1", reference=""),
        {"toAccount": str(b.id), "amount": "1"},
        item(a, b, "1", metadata={"bad key": "v"}),
    ]
    response = api.post(URL, batch(*items), format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]["transfers"]
    assert sorted(errors) == ["1", "2", "3", "4"]
    assert "amount" in errors["1"] and "reference" in errors["2"]
    assert "fromAccount" in errors["3"] and "metadata" in errors["4"]
    assert not Batch.objects.exists()
    assert api.post(URL, batch(item(a, b, "1")), format="json").status_code == 201


def test_batch_items_show_in_history_and_the_receivers_view(api, abc, make_user, make_account):
    a, b, _ = abc
    outsider = make_user()
    theirs = make_account(outsider)
    out = api.post(
        URL, batch(item(a, b, "1"), item(a, theirs, "2", reference="gift")), format="json"
    )
    batch_id = out.json()["batch"]["_id"]
    mine = api.get("/api/transactions", {"limit": 3}).json()["transactions"]
    assert {t["batch"] for t in mine[:2]} == {batch_id}
    seen = client_for(outsider).get("/api/transactions", {"reference": "gift"}).json()
    assert [t["amount"] for t in seen["transactions"]] == ["2.00"]


def test_the_key_may_come_as_a_header(api, abc):
    a, b, _ = abc
    response = api.post(
        URL, {"transfers": [item(a, b, "1")]}, format="json", HTTP_IDEMPOTENCY_KEY="hdr"
    )
    assert response.status_code == 201
    assert response.json()["batch"]["idempotencyKey"] == "hdr"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE transactions_batch SET status = 'FAILED' WHERE id = %s",
        "UPDATE transactions_batch SET idempotency_key = 'other' WHERE id = %s",
        "UPDATE transactions_transaction SET batch_id = NULL, batch_index = NULL,"
        " idempotency_key = 'x' WHERE batch_id = %s",
    ],
)
def test_raw_sql_cannot_change_a_batch_or_unlink_its_items(api, abc, sql):
    a, b, _ = abc
    out = api.post(URL, batch(item(a, b, "1")), format="json").json()["batch"]
    key = Batch._meta.pk.get_db_prep_value(out["_id"], connection)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [key])
    assert Batch.objects.get().status == "COMPLETED"
    assert Transaction.objects.get(batch_id=out["_id"]).batch_index == 0

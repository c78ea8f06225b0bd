"""GET /api/accounts/:id/statement: entries with running balances and counterparties, time
ranges, pages that stay put while entries are appended, and the same as a CSV stream."""

import csv
import io
import uuid

import pytest
from django.utils import timezone

from tests.conftest import client_for
from tests.transactions.helpers import transfer


def url(account):
    return f"/api/accounts/{account.id}/statement"


@pytest.fixture
def accounts(user, make_account, fund):
    mine, other = make_account(user), make_account(user)
    fund(mine, "100")
    return mine, other


def test_entries_with_balance_after_and_counterparty(api, accounts, system_user):
    mine, other = accounts
    out = transfer(mine, other, "30.25")
    back = transfer(other, mine, "0.25")
    body = api.get(url(mine)).json()
    assert body["accountId"] == str(mine.id) and body["currency"] == "INR"
    assert body["nextCursor"] is None
    rows = [
        (e["type"], e["amount"], e["balanceAfter"], e["transaction"], e["kind"])
        for e in body["entries"]
    ]
    assert rows[1:] == [
        ("DEBIT", "30.25", "69.75", str(out.id), "TRANSFER"),
        ("CREDIT", "0.25", "70.00", str(back.id), "TRANSFER"),
    ]
    assert rows[0][:3] == ("CREDIT", "100.00", "100.00") and rows[0][4] == "INITIAL_FUNDS"
    funding = system_user.accounts.get(is_funding=True)
    counterparties = [e["counterpartyAccount"] for e in body["entries"]]
    assert counterparties == [str(funding.id), str(other.id), str(other.id)]


def test_time_range(api, accounts):
    mine, other = accounts
    start = timezone.now()
    transfer(mine, other, "1")
    end = timezone.now()
    transfer(mine, other, "2")
    entries = api.get(url(mine), {"since": start.isoformat(), "until": end.isoformat()}).json()[
        "entries"
    ]
    assert [(e["amount"], e["balanceAfter"]) for e in entries] == [("1.00", "99.00")]


def test_pages_stay_exact_while_entries_are_appended(api, accounts):
    mine, other = accounts
    for _ in range(5):
        transfer(mine, other, "1")
    seen, cursor, appended = [], None, 0
    while True:
        body = api.get(url(mine), {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [e["_id"] for e in body["entries"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
        transfer(mine, other, "1")  # appended between pages; must show up once, at the end
        appended += 1
    everything = api.get(url(mine), {"limit": 100}).json()["entries"]
    assert seen == [e["_id"] for e in everything]
    assert len(set(seen)) == len(seen) == 1 + 5 + appended and appended >= 3
    assert [e["balanceAfter"] for e in everything] == [f"{100 - n}.00" for n in range(len(seen))]


def test_csv_is_the_same_entries_streamed(api, accounts):
    mine, other = accounts
    tx = transfer(mine, other, "12.50")
    response = api.get(url(mine), {"format": "csv"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert f"statement-{mine.id}.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    json_entries = api.get(url(mine)).json()["entries"]
    assert [r["entry_id"] for r in rows] == [e["_id"] for e in json_entries]
    last = rows[-1]
    assert (last["type"], last["amount"], last["balance_after"], last["currency"]) == (
        "DEBIT",
        "12.50",
        "87.50",
        "INR",
    )
    assert last["transaction"] == str(tx.id) and last["counterparty_account"] == str(other.id)
    assert last["kind"] == "TRANSFER" and last["created_at"] == json_entries[-1][
        "createdAt"
    ].replace("Z", "+00:00")


def test_csv_errors_are_still_json(api, make_user, make_account):
    theirs = make_account(make_user())
    response = api.get(url(theirs), {"format": "csv"})
    assert response.status_code == 404
    assert response.json()["code"] == "account_not_found"


def test_another_users_unknown_or_malformed_account_is_404(api, make_user, make_account):
    theirs = make_account(make_user())
    for path in (
        url(theirs),
        f"/api/accounts/{uuid.uuid4()}/statement",
        "/api/accounts/x/statement",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "account_not_found"


def test_system_user_may_read_any_statement(system_api, accounts):
    mine, _ = accounts
    assert len(system_api.get(url(mine)).json()["entries"]) == 1


def test_bad_parameters_are_400(api, accounts):
    mine, _ = accounts
    for params in ({"format": "xml"}, {"until": "soon"}, {"cursor": "e30"}, {"limit": "many"}):
        response = api.get(url(mine), params)
        assert response.status_code == 400, params


def test_statement_needs_a_token(client_anon, accounts):
    assert client_anon.get(url(accounts[0])).status_code == 401


def test_a_stranger_with_a_token_cannot_read_it(make_user, accounts):
    stranger = client_for(make_user())
    assert stranger.get(url(accounts[0]), {"format": "csv"}).status_code == 404

"""GET /api/accounts/balance/:id?asOf=: the balance at a moment, read from the ledger."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.transactions.helpers import transfer


def url(account):
    return f"/api/accounts/balance/{account.id}"


@pytest.fixture
def accounts(user, make_account):
    return make_account(user), make_account(user)


def test_balance_at_several_moments(api, accounts, fund):
    mine, other = accounts
    before_anything = timezone.now()
    fund(mine, "100")
    after_funding = timezone.now()
    transfer(mine, other, "30")
    after_first = timezone.now()
    transfer(other, mine, "5.50")
    after_second = timezone.now()
    expected = {
        before_anything: "0.00",
        after_funding: "100.00",
        after_first: "70.00",
        after_second: "75.50",
    }
    for moment, balance in expected.items():
        response = api.get(url(mine), {"asOf": moment.isoformat()})
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["balance"] == balance, moment
        assert body["accountId"] == str(mine.id) and body["currency"] == "INR"
    assert api.get(url(other), {"asOf": after_first.isoformat()}).json()["balance"] == "30.00"
    assert api.get(url(mine)).json()["balance"] == "75.50"


def test_as_of_a_transactions_own_time_includes_it(api, accounts, fund):
    mine, other = accounts
    fund(mine, "100")
    moved = transfer(mine, other, "30")
    at = moved.created_at.isoformat()
    assert api.get(url(mine), {"asOf": at}).json()["balance"] == "70.00"
    assert api.get(url(other), {"asOf": at}).json()["balance"] == "30.00"


def test_as_of_reads_one_entry_not_the_history(api, accounts, fund):
    mine, other = accounts
    fund(mine, "100")
    for _ in range(20):
        transfer(mine, other, "1")
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url(mine), {"asOf": timezone.now().isoformat()})
    assert response.json()["balance"] == "80.00"
    ledger_sql = [q["sql"] for q in queries.captured_queries if "ledger_ledgerentry" in q["sql"]]
    assert len(ledger_sql) == 1
    assert "LIMIT 1" in ledger_sql[0] and "SUM(" not in ledger_sql[0].upper()


def test_a_timestamp_without_offset_is_utc(api, accounts, fund):
    mine, _ = accounts
    fund(mine, "1")
    naive_future = "2999-01-01T00:00:00"
    assert api.get(url(mine), {"asOf": naive_future}).json()["balance"] == "1.00"


@pytest.mark.parametrize(
    "bad", ["yesterday", "2024-13-01T00:00:00Z", "2024-01-01T25:00:00Z", "1700000000"]
)
def test_bad_as_of_is_400(api, accounts, bad):
    response = api.get(url(accounts[0]), {"asOf": bad})
    assert response.status_code == 400
    assert "asOf" in response.json()["errors"]


def test_someone_elses_account_is_404_with_as_of(api, make_user, make_account):
    theirs = make_account(make_user())
    response = api.get(url(theirs), {"asOf": timezone.now().isoformat()})
    assert response.status_code == 404

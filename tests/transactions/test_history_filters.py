"""`GET /transactions?reference=R&metadata.KEY=VALUE`: exact matches, all keys must match, the
receiver sees what was sent to it, pages while filtering, and on PostgreSQL the GIN index on the
metadata serves the filter."""

from decimal import Decimal

import pytest
from django.db import connection

from tests.conftest import client_for
from transactions.models import Transaction
from transactions.selectors import metadata_has
from transactions.services import transfer_create

URL = "/api/transactions"


@pytest.fixture
def accounts(user, make_user, make_account, fund):
    sender, receiver = make_account(user), make_account(make_user())
    fund(sender, "1000")
    return sender, receiver


def send(sender, receiver, key, *, reference=None, metadata=None):
    return transfer_create(
        initiator=sender.user,
        from_account_id=str(sender.id),
        to_account_id=str(receiver.id),
        amount=Decimal("1"),
        idempotency_key=key,
        reference=reference,
        metadata=metadata,
    ).transaction


def ids(response):
    assert response.status_code == 200, response.json()
    return [tx["_id"] for tx in response.json()["transactions"]]


def test_reference_matches_exactly(api, accounts):
    hit = send(*accounts, "a", reference="INV-1")
    send(*accounts, "b", reference="INV-10")
    send(*accounts, "c", reference="inv-1")
    send(*accounts, "d")
    assert ids(api.get(URL, {"reference": "INV-1"})) == [str(hit.id)]
    assert ids(api.get(URL, {"reference": "INV"})) == []


def test_metadata_filters_are_exact_and_all_must_match(api, accounts):
    both = send(*accounts, "a", metadata={"order": "42", "channel": "web"})
    order_only = send(*accounts, "b", metadata={"order": "42", "channel": "app"})
    send(*accounts, "c", metadata={"order": "420"})
    send(*accounts, "d", reference="42")
    assert ids(api.get(URL, {"metadata.order": "42"})) == [str(order_only.id), str(both.id)]
    assert ids(api.get(f"{URL}?metadata.order=42&metadata.channel=web")) == [str(both.id)]
    assert ids(api.get(f"{URL}?metadata.order=42&metadata.missing=x")) == []
    # The same key twice: both values must match, which none can.
    assert ids(api.get(f"{URL}?metadata.order=42&metadata.order=420")) == []
    assert ids(api.get(URL, {"metadata.order": "42", "reference": "none"})) == []


def test_unusual_keys_are_keys_not_paths(api, accounts):
    digits = send(*accounts, "a", metadata={"123": "x", "a.b": "y", "-": "z"})
    assert ids(api.get(URL, {"metadata.123": "x"})) == [str(digits.id)]
    assert ids(api.get(URL, {"metadata.a.b": "y"})) == [str(digits.id)]
    assert ids(api.get(URL, {"metadata.-": "z"})) == [str(digits.id)]
    assert ids(api.get(URL, {"metadata.a": "y"})) == []


def test_the_receiver_finds_what_was_sent_to_it(accounts):
    sender, receiver = accounts
    sent = send(sender, receiver, "a", reference="R", metadata={"k": "v"})
    receiver_api = client_for(receiver.user)
    assert ids(receiver_api.get(URL, {"reference": "R"})) == [str(sent.id)]
    assert ids(receiver_api.get(URL, {"metadata.k": "v"})) == [str(sent.id)]


def test_another_user_finds_nothing(make_user, accounts):
    send(*accounts, "a", reference="R", metadata={"k": "v"})
    stranger = client_for(make_user())
    assert ids(stranger.get(URL, {"reference": "R"})) == []
    assert ids(stranger.get(URL, {"metadata.k": "v"})) == []


def test_pages_while_filtering_visit_every_match_once(api, accounts):
    matches = [send(*accounts, f"m{i}", metadata={"run": "7"}) for i in range(5)]
    for i in range(4):
        send(*accounts, f"o{i}", metadata={"run": "8"})
    seen, cursor = [], None
    while True:
        params = {"metadata.run": "7", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get(URL, params).json()
        seen += [tx["_id"] for tx in page["transactions"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [str(tx.id) for tx in reversed(matches)]


@pytest.mark.parametrize(
    "query",
    [
        {"metadata.": "v"},
        {"metadata.bad key": "v"},
        {"metadata." + "k" * 41: "v"},
        {"metadata.k": "v" * 501},
        {"reference": "x" * 129},
        {f"metadata.k{i}": "v" for i in range(17)},
    ],
)
def test_filters_outside_the_limits_are_400(api, accounts, query):
    response = api.get(URL, query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


def _plan(rows) -> str:
    with connection.cursor() as cursor:
        # With few rows a sequential scan is cheaper; forbid it to see what can serve the query.
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = rows.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the GIN index is PostgreSQL's")
def test_the_metadata_filter_is_served_by_the_gin_index(accounts):
    for i in range(30):
        send(*accounts, f"k{i}", metadata={"order": str(i)})
    send(*accounts, "plain")
    rows = Transaction.objects.filter(metadata_has("order", "7"))
    plan = _plan(rows)
    assert "transactions_metadata_gin" in plan, plan
    assert "@>" in plan
    assert [tx.metadata for tx in rows] == [{"order": "7"}]
    # The index holds the rows with metadata only (a plain transfer writes no entry to it).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef('transactions_metadata_gin'::regclass)")
        assert cursor.fetchone()[0].endswith("WHERE (metadata <> '{}'::jsonb)")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner is asked")
def test_the_reference_filter_is_served_by_the_index_of_rows_with_one(accounts):
    for i in range(30):
        send(*accounts, f"k{i}", reference=f"invoice-{i}")
        send(*accounts, f"p{i}")
    rows = Transaction.objects.filter(reference="invoice-7")
    assert "transactions_reference_idx" in _plan(rows)
    assert [tx.reference for tx in rows] == ["invoice-7"]
    # The index holds the rows with a reference only (a plain transfer writes no entry to it).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef('transactions_reference_idx'::regclass)")
        assert cursor.fetchone()[0].endswith("WHERE (reference IS NOT NULL)")

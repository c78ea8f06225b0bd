"""The number of queries one transfer request costs is pinned: a new query in the money path
must be a decision, not an accident."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import client_for


@pytest.mark.django_db(transaction=True)  # a real outer transaction, not a test savepoint
def test_queries_per_transfer_request(user, make_account, fund, settings):
    settings.RATE_LIMIT_COUNTERS = "database"
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "100")
    client = client_for(user)
    data = {"fromAccount": str(sender.id), "toAccount": str(receiver.id), "amount": "1"}
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/transactions", {**data, "idempotencyKey": "q"}, format="json")
    assert response.status_code == 201
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # the user with its token's revocation; the rate-limit counter (one upsert, outside the
    # money transaction; none with Redis counters); then one database transaction: lock both
    # accounts (the sender never held money, so there is no holds query), then the writes —
    # insert the transaction, insert both entries, update both balances, insert its event
    # (the outbox row, committed with the transfer or not at all) — as one statement on
    # PostgreSQL.
    writes = ["INSERT", "INSERT", "UPDATE", "INSERT"]
    if connection.vendor == "postgresql":
        writes = ["WITH"]
    expected = ["SELECT", "INSERT", "BEGIN", "SELECT", *writes, "COMMIT"]
    assert statements == expected, [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_queries_per_transfer_request_between_known_accounts(user, make_account, fund, settings):
    """Once the engine has read both accounts (their owners and currencies never change), on
    PostgreSQL the whole movement is one statement, its own database transaction
    (tests/ledger/test_direct_posting.py); SQLite takes the locked path every time."""
    settings.RATE_LIMIT_COUNTERS = "database"
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "100")
    client = client_for(user)
    data = {"fromAccount": str(sender.id), "toAccount": str(receiver.id), "amount": "1"}
    client.post("/api/transactions", {**data, "idempotencyKey": "first"}, format="json")
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/transactions", {**data, "idempotencyKey": "q"}, format="json")
    assert response.status_code == 201
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    money = ["BEGIN", "SELECT", "INSERT", "INSERT", "UPDATE", "INSERT", "COMMIT"]
    if connection.vendor == "postgresql":
        money = ["WITH"]
    assert statements == ["SELECT", "INSERT", *money], [q["sql"] for q in queries.captured_queries]

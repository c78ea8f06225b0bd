"""No response carries a password hash, another user's `systemUser`, a stack trace or a SQL
error: not in normal answers, and not when the database itself fails under a request."""

import uuid

import pytest
from django.db import connection

from tests.conftest import client_for
from tests.security.responses import assert_safe


@pytest.fixture
def paid(user, make_account, fund):
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "50.00")
    response = client_for(user).post(
        "/api/transactions",
        {
            "fromAccount": str(sender.id),
            "toAccount": str(receiver.id),
            "amount": "5.00",
            "idempotencyKey": "leak-1",
        },
        format="json",
    )
    return sender, response.json()["transaction"]["_id"]


def _reads(account, transaction):
    return [
        "/api/auth/me",
        "/api/accounts",
        f"/api/accounts/balance/{account}",
        f"/api/accounts/{account}/statement",
        "/api/transactions",
        f"/api/transactions/{transaction}",
        "/api/health",
    ]


@pytest.mark.parametrize("who", ["user", "system_user"])
def test_every_read_is_clean_and_me_shows_only_the_callers_own_flag(request, paid, who):
    caller = request.getfixturevalue(who)
    account, transaction = paid
    client = client_for(caller)
    for path in _reads(account.id, transaction):
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.content[:300])
        me = path == "/api/auth/me"
        assert_safe(response, allowed_keys=frozenset({"systemUser"} if me else ()))
        if me:
            assert response.json()["systemUser"] is caller.is_system
            assert response.json()["_id"] == str(caller.id)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nowhere"),
        ("PUT", "/api/accounts"),
        ("DELETE", "/api/transactions"),
        ("PATCH", "/api/auth/login"),
        ("GET", "/api/auth/register"),
    ],
)
def test_unknown_routes_and_methods_are_json(api, method, path):
    response = getattr(api, method.lower())(path)
    assert response.status_code in (404, 405)
    assert_safe(response)


def test_a_database_error_under_a_request_leaks_no_sql(user, paid):
    """A real SQL failure, not a mock: the accounts table is renamed inside the test's own
    transaction (rolled back afterwards), so every query that needs it fails in the database."""
    account, _transaction = paid
    client = client_for(user)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE accounts_account RENAME TO accounts_account_gone")
    for method, path, body in [
        ("get", "/api/accounts", None),
        ("get", f"/api/accounts/balance/{account.id}", None),
        ("post", "/api/accounts", {}),
        (
            "post",
            "/api/transactions",
            {
                "fromAccount": str(account.id),
                "toAccount": str(uuid.uuid4()),
                "amount": "1",
                "idempotencyKey": "x",
            },
        ),
    ]:
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code in (500, 503), (path, response.content[:300])
        assert_safe(response)
        assert "accounts_account" not in response.content.decode()
        assert set(response.json()) == {"message", "code"}

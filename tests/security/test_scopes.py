"""API key scopes on every endpoint: a key without the endpoint's scope is 403
`insufficient_scope` and changes nothing; with it, the scope is not what stops the call.
A route missing from ENDPOINTS fails `test_every_authenticated_route_is_in_the_table`."""

from dataclasses import dataclass

import pytest
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient

from accounts.models import Account
from ledger.models import Hold
from tests.conftest import client_for
from tests.holds.helpers import hold
from tests.routes import api_routes
from transactions.models import Transaction
from users.scopes import JWT_ONLY, SCOPES
from users.services import api_key_create


@dataclass(frozen=True)
class Endpoint:
    route: str
    method: str
    path: str  # formatted with account, transaction, webhook
    scope: str
    body: dict | None = None


ENDPOINTS = [
    Endpoint("/api/auth/me", "GET", "/api/auth/me", "any"),
    Endpoint("/api/accounts", "GET", "/api/accounts", "accounts:read"),
    Endpoint("/api/accounts", "POST", "/api/accounts", "accounts:write"),
    Endpoint(
        "/api/accounts/balance/{account_id}",
        "GET",
        "/api/accounts/balance/{account}",
        "accounts:read",
    ),
    Endpoint(
        "/api/accounts/{account_id}/statement",
        "GET",
        "/api/accounts/{account}/statement",
        "accounts:read",
    ),
    Endpoint(
        "/api/accounts/{account_id}/freeze", "POST", "/api/accounts/{account}/freeze", "system"
    ),
    Endpoint(
        "/api/accounts/{account_id}/unfreeze",
        "POST",
        "/api/accounts/{account}/unfreeze",
        "system",
    ),
    Endpoint(
        "/api/accounts/{account_id}/close",
        "POST",
        "/api/accounts/{account}/close",
        "accounts:write",
    ),
    Endpoint("/api/transactions", "GET", "/api/transactions", "transactions:read"),
    Endpoint(
        "/api/transactions",
        "POST",
        "/api/transactions",
        "transactions:write",
        {
            "fromAccount": "{account}",
            "toAccount": "{funding}",
            "amount": "1",
            "idempotencyKey": "scope",
        },
    ),
    Endpoint(
        "/api/transactions/system/initial-funds",
        "POST",
        "/api/transactions/system/initial-funds",
        "system",
        {"toAccount": "{account}", "amount": "1", "idempotencyKey": "scope"},
    ),
    Endpoint(
        "/api/transactions/{transaction_id}",
        "GET",
        "/api/transactions/{transaction}",
        "transactions:read",
    ),
    Endpoint(
        "/api/transactions/{transaction_id}/reverse",
        "POST",
        "/api/transactions/{transaction}/reverse",
        "system",
        {"idempotencyKey": "scope", "reason": "test"},
    ),
    Endpoint(
        "/api/transactions/batch",
        "POST",
        "/api/transactions/batch",
        "transactions:write",
        {
            "idempotencyKey": "scope",
            "transfers": [{"fromAccount": "{account}", "toAccount": "{funding}", "amount": "1"}],
        },
    ),
    Endpoint(
        "/api/transactions/{transaction_id}/receipt",
        "GET",
        "/api/transactions/{transaction}/receipt",
        "transactions:read",
    ),
    Endpoint(
        "/api/transactions/{transaction_id}/proof",
        "GET",
        "/api/transactions/{transaction}/proof",
        "transactions:read",
    ),
    Endpoint("/api/events", "GET", "/api/events", "events:read"),
    Endpoint("/api/webhooks", "GET", "/api/webhooks", "webhooks:write"),
    Endpoint(
        "/api/webhooks",
        "POST",
        "/api/webhooks",
        "webhooks:write",
        {"url": "https://93.184.216.34/hook"},
    ),
    Endpoint(
        "/api/webhooks/{webhook_id}",
        "DELETE",
        "/api/webhooks/{webhook}",
        "webhooks:write",
    ),
    Endpoint(
        "/api/accounts/{account_id}/limits",
        "GET",
        "/api/accounts/{account}/limits",
        "accounts:read",
    ),
    Endpoint(
        "/api/accounts/{account_id}/limits",
        "PUT",
        "/api/accounts/{account}/limits",
        "system",
        {"overdraftLimit": "1", "reason": "scope"},
    ),
    Endpoint("/api/holds", "GET", "/api/holds", "transactions:read"),
    Endpoint(
        "/api/holds",
        "POST",
        "/api/holds",
        "holds:write",
        {
            "fromAccount": "{account}",
            "toAccount": "{funding}",
            "amount": "1",
            "idempotencyKey": "scope",
        },
    ),
    Endpoint("/api/holds/{hold_id}", "GET", "/api/holds/{hold}", "transactions:read"),
    Endpoint(
        "/api/holds/{hold_id}/capture",
        "POST",
        "/api/holds/{hold}/capture",
        "holds:write",
        {"idempotencyKey": "scope"},
    ),
    Endpoint(
        "/api/holds/{hold_id}/void",
        "POST",
        "/api/holds/{hold}/void",
        "holds:write",
        {"idempotencyKey": "scope"},
    ),
    Endpoint("/api/auth/logout", "POST", "/api/auth/logout", JWT_ONLY),
    Endpoint("/api/auth/keys", "GET", "/api/auth/keys", JWT_ONLY),
    Endpoint(
        "/api/auth/keys",
        "POST",
        "/api/auth/keys",
        JWT_ONLY,
        {"name": "x", "scopes": ["accounts:read"]},
    ),
    Endpoint("/api/auth/keys/{key_id}", "DELETE", "/api/auth/keys/{key}", JWT_ONLY),
]


def _snapshot():
    return (
        list(Account.objects.order_by("id").values_list("id", "balance", "status")),
        list(Transaction.objects.order_by("id").values_list("id", "status")),
        list(Hold.objects.order_by("id").values_list("id", "status")),
        list(Account.objects.order_by("id").values_list("overdraft_limit", flat=True)),
    )


@pytest.fixture
def targets(system_user, make_account, fund):
    """The system user's own account, a transaction of theirs and a webhook: every call is
    one the key's owner could make with a JWT."""
    account = make_account(system_user)
    transaction = fund(account, "5.00")
    webhook = client_for(system_user).post(
        "/api/webhooks", {"url": "https://93.184.216.34/hook"}, format="json"
    )
    return {
        "account": account.id,
        "funding": Account.objects.get(user=system_user, is_funding=True).id,
        "transaction": transaction.id,
        "webhook": webhook.json()["webhook"]["_id"],
        "hold": hold(account, Account.objects.get(user=system_user, is_funding=True), "1").id,
    }


def _filled(value, fields):
    """The body with `{name}` placeholders filled in, at any depth."""
    if isinstance(value, str):
        return value.format(**fields)
    if isinstance(value, list):
        return [_filled(item, fields) for item in value]
    if isinstance(value, dict):
        return {key: _filled(item, fields) for key, item in value.items()}
    return value


def _send(secret, endpoint, fields):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = _filled(endpoint.body, fields) if endpoint.body else None
    return getattr(client, endpoint.method.lower())(
        endpoint.path.format(**fields), body, format="json"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
def test_a_key_without_the_endpoints_scope_is_403_and_changes_nothing(
    endpoint, system_user, targets
):
    if endpoint.scope == "any":
        pytest.skip("any valid key may make this call")
    lacking = [s for s in SCOPES if s != endpoint.scope]
    key, secret = api_key_create(user=system_user, name="lacking", scopes=lacking)
    before = _snapshot()

    response = _send(secret, endpoint, {**targets, "key": key.id})

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_scope"
    assert _snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e.scope != JWT_ONLY], ids=lambda e: f"{e.method} {e.path}"
)
def test_a_key_with_only_the_endpoints_scope_gets_through(endpoint, system_user, targets):
    scopes = ["accounts:read"] if endpoint.scope == "any" else [endpoint.scope]
    key, secret = api_key_create(user=system_user, name="exact", scopes=scopes)

    response = _send(secret, endpoint, {**targets, "key": key.id})

    assert response.status_code not in (401, 403), response.content


def test_every_authenticated_route_is_in_the_table():
    authenticated = {
        route
        for route, entry in api_routes()
        if hasattr(entry.callback, "cls")
        and not entry.callback.cls.__module__.startswith("drf_spectacular")
        and not _open(entry.callback)
    }
    listed = {e.route for e in ENDPOINTS}
    assert authenticated and authenticated <= listed, sorted(authenticated - listed)


def _open(callback) -> bool:
    """Every method of the route is open to anyone (register, login, health, the API root)."""
    view = callback.cls
    actions = getattr(callback, "actions", None) or {}
    handlers = [getattr(view, name) for name in actions.values()] or [view]
    return all(
        any(
            issubclass(p, AllowAny)
            for p in getattr(h, "kwargs", {}).get("permission_classes", view.permission_classes)
        )
        for h in handlers
    )

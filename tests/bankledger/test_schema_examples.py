"""Swagger's "Try it out" starts from the schema's examples: every request body has one, and
each passes validation when sent as it is (register, login and open-account succeed outright;
the money calls name ids that do not exist here, so they may only fail on those)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Account
from tests.conftest import client_for
from tests.holds.helpers import hold
from users.passwords import password_rules


@pytest.fixture
def schema(db):
    return Client().get("/api/schema/", {"format": "json"}).json()


def _bodies(schema) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation["requestBody"]["content"]["application/json"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]


def test_every_request_body_has_an_example(schema):
    bodies = _bodies(schema)
    assert bodies
    for method, path, content in bodies:
        assert content.get("examples"), f"{method.upper()} {path} has no example"


def test_every_example_passes_validation(schema, system_user, make_account, fund):
    anonymous, system = APIClient(), client_for(system_user)
    account = make_account(system_user)
    ids = {"account_id": account.id, "transaction_id": fund(account, "5.00").id}
    funding = Account.objects.get(user=system_user, is_funding=True)
    fund(account, "500")
    ids["hold_id"] = hold(account, funding, "500").id
    # Register before logging in: the login example is the registered user.
    for method, path, content in sorted(_bodies(schema), key=lambda b: "login" in b[1]):
        client = anonymous if path.startswith("/api/auth/") else system
        for example in content["examples"].values():
            url = path.format(**ids)
            response = getattr(client, method)(url, example["value"], format="json")
            assert response.status_code < 500, response.content
            if response.status_code >= 400:
                assert response.json()["code"] not in ("invalid_input", "invalid_amount"), (
                    url,
                    response.json(),
                )
            if path in ("/api/auth/register", "/api/auth/login", "/api/accounts"):
                assert response.status_code in (200, 201), (url, response.json())


def test_the_schema_states_the_password_rules(schema):
    password = schema["components"]["schemas"]["UserRegisterRequest"]["properties"]["password"]
    assert password["minLength"] == 8
    for rule in password_rules():
        assert rule in password["description"]
    assert "name or email" in password["description"]


def test_a_refused_password_is_answered_with_every_rule(db):
    body = {"name": "Ana", "email": "ana@example.com", "password": "password123"}
    response = Client().post("/api/auth/register", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]["password"]
    for rule in password_rules():
        assert rule in response.json()["message"]

"""API.md "Paths, as Express matched them": every /api route answers with and without one
trailing slash, the same way; anything else under /api is a JSON 404, never a CSRF page."""

import pytest
from rest_framework.test import APIClient

from tests.routes import api_routes
from users.services import token_issue

_ID = "5f0c7a4e-2b1d-4c3e-9f8a-6d7e8f9a0b1c"
_METHODS = ("get", "post", "put", "patch", "delete")


def _methods(entry) -> list[str]:
    actions = getattr(entry.callback, "actions", None)
    if actions is not None:
        return list(actions)
    view = entry.callback.view_class
    return [method for method in _METHODS if hasattr(view, method)]


def _answer(response) -> tuple:
    kind = response["Content-Type"]
    body = response.json() if kind == "application/json" else None
    return response.status_code, kind, body


def _both_spellings():
    for path, entry in api_routes():
        for method in _methods(entry):
            yield pytest.param(
                method,
                path.format(**dict.fromkeys(entry.pattern.regex.groupindex, _ID)),
                id=f"{method} {path}",
            )


@pytest.mark.parametrize(("method", "path"), _both_spellings())
def test_every_route_answers_the_same_with_one_trailing_slash(db, method, path):
    # A browser-like client: Django's test client skips the CSRF check unless told not to.
    client = APIClient(enforce_csrf_checks=True)
    bare = getattr(client, method)(path, {}, format="json")
    slashed = getattr(client, method)(path + "/", {}, format="json")
    assert bare.status_code not in (403, 405), bare.content
    # A 404 may come from the route's own view (nothing signed yet), never from the catch-all.
    assert bare.status_code != 404 or bare.json()["code"] != "not_found", bare.content
    assert _answer(slashed) == _answer(bare)


def test_the_walk_covers_the_contract():
    paths = {path for path, _ in api_routes()}
    assert {"/api", "/api/docs", "/api/schema", "/api/transactions", "/api/auth/login"} <= paths


@pytest.mark.parametrize("path", ["/api/transactions/", "/api/accounts/"])
def test_a_bearer_post_with_a_trailing_slash_is_served(user, make_account, fund, path):
    source, target = make_account(user), make_account(user)
    fund(source, "10.00")
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user)}")
    body = {
        "fromAccount": str(source.id),
        "toAccount": str(target.id),
        "amount": "1.00",
        "idempotencyKey": "slash",
    }
    response = client.post(path, body if "transactions" in path else {}, format="json")
    assert response.status_code == 201, response.content


def test_login_with_a_trailing_slash(user):
    client = APIClient(enforce_csrf_checks=True)
    body = {"email": user.email, "password": "correct-horse-battery-staple"}
    response = client.post("/api/auth/login/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["token"]


@pytest.mark.parametrize("method", _METHODS)
@pytest.mark.parametrize("with_cookie", [False, True], ids=["no-cookie", "cookie"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/nope",
        "/api/nope/",
        "/api/accounts//",
        "/api/transactions//",
        "/api/accounts/x/y/z",
        "/api/transactions/x/reverse/extra",
        "/api//",
    ],
)
def test_an_unmatched_api_path_is_a_json_404(user, method, with_cookie, path):
    client = APIClient(enforce_csrf_checks=True)
    if with_cookie:
        client.cookies["token"] = token_issue(user=user)
    response = getattr(client, method)(path, {}, format="json")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("path", ["/api", "/api/"])
def test_the_api_root_names_the_service_and_links_its_docs(db, path):
    response = APIClient().get(path)
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "bankledger" and body["version"]
    assert body["links"] == {"docs": "/api/docs/", "schema": "/api/schema/"}
    for link in body["links"].values():
        assert APIClient().get(link).status_code == 200


@pytest.mark.parametrize("path", ["/api/docs", "/api/schema"])
def test_docs_and_schema_answer_without_the_slash(db, path):
    assert APIClient().get(path).status_code == 200

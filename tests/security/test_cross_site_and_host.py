"""Cross-site requests riding the `token` cookie are refused on every unsafe route; Bearer
requests never are. A Host header outside ALLOWED_HOSTS is a JSON 400."""

import pytest
from rest_framework.test import APIClient

from tests.conftest import client_for
from tests.security.responses import assert_clean_refusal
from users.tokens import AccessToken

# Every route that changes something for a signed-in user (ids are filled in per test).
UNSAFE = [
    ("POST", "/api/auth/logout"),
    ("POST", "/api/accounts"),
    ("POST", "/api/transactions"),
    ("POST", "/api/transactions/system/initial-funds"),
    ("POST", "/api/accounts/{account}/freeze"),
    ("POST", "/api/accounts/{account}/unfreeze"),
    ("POST", "/api/accounts/{account}/close"),
    ("POST", "/api/transactions/{transaction}/reverse"),
]
FOREIGN_ORIGINS = [
    "https://evil.example",
    "null",
    "http://testserver.evil.example",
    "http://evil.example/http://testserver",
    "http://testserver:8080",
    "https://testserver",
    "HTTP://TESTSERVER.evil.example",
]


@pytest.fixture
def ids(system_user, make_account, fund):
    account = make_account(system_user)
    funding = fund(account, "5.00")
    return {"account": str(account.id), "transaction": str(funding.id)}


def _cookie_client(user):
    client = APIClient()
    client.cookies["token"] = str(AccessToken.for_user(user))
    return client


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
@pytest.mark.parametrize(("method", "path"), UNSAFE, ids=[p for _m, p in UNSAFE])
def test_cookie_write_from_a_foreign_origin_is_refused(system_user, ids, method, path, origin):
    """The system user's cookie: the most a forged cross-site request could do."""
    response = getattr(_cookie_client(system_user), method.lower())(
        path.format(**ids), {}, format="json", HTTP_ORIGIN=origin
    )
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "csrf_failed"
    assert_clean_refusal(response)


@pytest.mark.parametrize(("method", "path"), UNSAFE, ids=[p for _m, p in UNSAFE])
def test_bearer_write_with_a_foreign_origin_is_not_a_csrf_refusal(system_user, ids, method, path):
    response = getattr(client_for(system_user), method.lower())(
        path.format(**ids), {}, format="json", HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code != 403 or response.json()["code"] != "csrf_failed"


def test_the_refused_cross_site_logout_leaves_the_token_valid(user):
    client = _cookie_client(user)
    assert client.post("/api/auth/logout", HTTP_ORIGIN="https://evil.example").status_code == 403
    assert client.get("/api/accounts").status_code == 200


@pytest.mark.parametrize(
    "host",
    ["evil.example", "testserver.evil.example", "127.0.0.1.evil.example", "localhost:80@evil"],
)
def test_a_host_outside_allowed_hosts_is_a_json_400(db, host):
    response = APIClient().get("/api/health", HTTP_HOST=host)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "bad_request"
    assert_clean_refusal(response)


def test_a_forwarded_host_cannot_make_a_foreign_origin_look_like_our_own(user):
    """If X-Forwarded-Host were trusted, an attacker's Origin could match the 'own' origin."""
    response = _cookie_client(user).post(
        "/api/accounts",
        {},
        format="json",
        HTTP_ORIGIN="http://evil.example",
        HTTP_X_FORWARDED_HOST="evil.example",
    )
    assert response.status_code in (400, 403)
    assert_clean_refusal(response)

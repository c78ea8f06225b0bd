"""POST /api/auth/logout revokes the very token presented, and the purge of expired ones."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from tests.conftest import PASSWORD
from users.tokens import AccessToken


@pytest.fixture
def token(client_anon, user):
    response = client_anon.post(
        "/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    return response.json()["token"]


def test_logout_clears_the_cookie_and_refuses_the_token_by_both_routes(token):
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = bearer.post("/api/auth/logout")
    assert response.status_code == 200
    assert response.json()["message"]
    assert response.cookies["token"].value == ""
    assert int(response.cookies["token"]["max-age"]) == 0

    invalid = {"message": "Unauthorized access, token is invalid", "code": "token_invalid"}
    assert bearer.get("/api/accounts").json() == invalid
    cookie = APIClient()
    cookie.cookies["token"] = token
    again = cookie.get("/api/accounts")
    assert again.status_code == 401
    assert again.json() == invalid


def test_logout_by_cookie_works_too(token):
    client = APIClient()
    client.cookies["token"] = token
    assert client.post("/api/auth/logout").status_code == 200
    assert client.get("/api/accounts").status_code == 401


def test_logout_only_revokes_that_token(client_anon, user, token):
    other = client_anon.post(
        "/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    ).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.post("/api/auth/logout")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert client.get("/api/accounts").status_code == 200


def test_logout_needs_a_token(client_anon):
    response = client_anon.post("/api/auth/logout")
    assert response.status_code == 401
    assert response.json()["message"] == "Unauthorized access, token is missing"


def test_flushexpiredtokens_purges_only_expired_revocations(user):
    expired = AccessToken.for_user(user)
    expired.set_exp(from_time=timezone.now() - timedelta(days=4))
    expired.blacklist()
    live = AccessToken.for_user(user)
    live.blacklist()
    assert BlacklistedToken.objects.count() == 2

    call_command("flushexpiredtokens")

    remaining = OutstandingToken.objects.values_list("jti", flat=True)
    assert list(remaining) == [live["jti"]]
    assert BlacklistedToken.objects.count() == 1

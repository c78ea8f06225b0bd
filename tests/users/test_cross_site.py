"""Cookie-authenticated writes from a foreign Origin are refused; Bearer requests never are."""

import pytest
from rest_framework.test import APIClient

from users.tokens import AccessToken


@pytest.fixture
def token(user):
    return str(AccessToken.for_user(user))


def _cookie_client(token):
    client = APIClient()
    client.cookies["token"] = token
    return client


def test_cookie_post_from_foreign_origin_is_403(token):
    response = _cookie_client(token).post("/api/accounts", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_cookie_post_without_origin_is_allowed(token):
    assert _cookie_client(token).post("/api/accounts").status_code == 201


def test_cookie_post_from_own_origin_is_allowed(token):
    response = _cookie_client(token).post("/api/accounts", HTTP_ORIGIN="http://testserver")
    assert response.status_code == 201


def test_cookie_post_from_a_trusted_origin_is_allowed(token, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example"]
    response = _cookie_client(token).post("/api/accounts", HTTP_ORIGIN="https://app.example")
    assert response.status_code == 201


def test_cookie_get_from_foreign_origin_is_allowed(token):
    response = _cookie_client(token).get("/api/accounts", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 200


def test_bearer_post_from_foreign_origin_is_allowed(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post("/api/accounts", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 201

"""How protected routes read and judge the JWT: header or cookie, and every way to fake one."""

import base64
import json
import time
from datetime import timedelta

import jwt
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from users.tokens import AccessToken

MISSING = {"message": "Unauthorized access, token is missing", "code": "token_missing"}
INVALID = {"message": "Unauthorized access, token is invalid", "code": "token_invalid"}


def _get(token=None, cookie=None):
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    if cookie is not None:
        client.cookies["token"] = cookie
    return client.get("/api/accounts")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_bearer_header_is_accepted(user):
    assert _get(token=str(AccessToken.for_user(user))).status_code == 200


def test_cookie_is_accepted(user):
    assert _get(cookie=str(AccessToken.for_user(user))).status_code == 200


def test_no_token_is_401_missing(db):
    response = _get()
    assert response.status_code == 401
    assert response.json() == MISSING


def test_tampered_payload_is_invalid(user, make_user):
    header, _payload, signature = str(AccessToken.for_user(user)).split(".")
    other = make_user()
    forged = AccessToken.for_user(other).payload
    assert _get(token=f"{header}.{_b64(forged)}.{signature}").json() == INVALID


def test_alg_none_is_invalid(user):
    payload = dict(AccessToken.for_user(user).payload)
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."
    response = _get(token=unsigned)
    assert response.status_code == 401
    assert response.json() == INVALID


def test_token_signed_with_another_secret_is_invalid(user):
    payload = dict(AccessToken.for_user(user).payload)
    forged = jwt.encode(payload, "another-secret-of-at-least-32-bytes!!", algorithm="HS256")
    assert _get(token=forged).json() == INVALID


def test_expired_token_is_invalid(user):
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(seconds=settings.JWT_LIFETIME + 1))
    assert _get(token=str(token)).json() == INVALID
    fresh = AccessToken.for_user(user)
    assert _get(token=str(fresh)).status_code == 200


def test_a_token_that_expires_after_it_was_accepted_is_refused(user):
    """Verified tokens are kept by their text; the expiry is checked again on every use."""
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=1))
    assert _get(token=str(token)).status_code == 200
    time.sleep(max(0.0, token["exp"] - time.time()) + 0.1)
    assert _get(token=str(token)).json() == INVALID


def test_garbage_token_is_invalid_in_header_and_cookie(db):
    assert _get(token="not.a.jwt").json() == INVALID
    assert _get(cookie="garbage").json() == INVALID


def test_default_lifetime_is_three_days(user):
    token = AccessToken.for_user(user)
    assert token["exp"] - token["iat"] == settings.JWT_LIFETIME == 3 * 24 * 3600

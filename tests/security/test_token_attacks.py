"""Forged, replayed and orphaned JWTs: every one is a 401 `token_invalid`, by header and cookie."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from tests.security.responses import assert_clean_refusal
from users.tokens import AccessToken

INVALID = {"message": "Unauthorized access, token is invalid", "code": "token_invalid"}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _segment(data: dict) -> str:
    return _b64(json.dumps(data).encode())


def _claims(user) -> dict:
    return dict(AccessToken.for_user(user).payload)


def _assert_refused(token: str) -> None:
    bearer, cookie = APIClient(), APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    cookie.cookies["token"] = token
    for client in (bearer, cookie):
        response = client.get("/api/accounts")
        assert response.status_code == 401, response.content
        assert response.json() == INVALID
        assert_clean_refusal(response)


def _rsa_private_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_a_genuine_token_works_by_both_routes(user):
    token = str(AccessToken.for_user(user))
    bearer, cookie = APIClient(), APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    cookie.cookies["token"] = token
    assert bearer.get("/api/accounts").status_code == 200
    assert cookie.get("/api/accounts").status_code == 200


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_unsigned_token_is_refused(user, alg):
    _assert_refused(f"{_segment({'alg': alg, 'typ': 'JWT'})}.{_segment(_claims(user))}.")


def test_unsigned_token_with_the_genuine_signature_kept_is_refused(user):
    genuine = str(AccessToken.for_user(user)).split(".")[2]
    header = _segment({"alg": "none", "typ": "JWT"})
    _assert_refused(f"{header}.{_segment(_claims(user))}.{genuine}")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_another_hmac_algorithm_with_the_right_secret_is_refused(user, alg):
    """The algorithm is pinned to HS256: a token may not choose its own."""
    _assert_refused(jwt.encode(_claims(user), settings.JWT_SECRET, algorithm=alg))


def test_rs256_token_signed_with_an_attackers_key_is_refused(user):
    _assert_refused(jwt.encode(_claims(user), _rsa_private_pem(), algorithm="RS256"))


def test_rs256_header_over_an_hmac_signature_is_refused(user):
    """Algorithm confusion: an RS256 header on a token MACed with the shared secret."""
    header = _segment({"alg": "RS256", "typ": "JWT"})
    body = _segment(_claims(user))
    signing_input = f"{header}.{body}".encode()
    mac = jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256).sign(
        signing_input, settings.JWT_SECRET.encode()
    )
    _assert_refused(f"{header}.{body}.{_b64(mac)}")


def test_token_signed_with_a_wrong_secret_is_refused(user):
    _assert_refused(jwt.encode(_claims(user), "x" * 48, algorithm="HS256"))


@pytest.mark.parametrize(
    "change",
    [
        {"exp": 4102444800},  # extend its life to 2100
        {"token_type": "refresh"},
        {"user_id": "00000000-0000-0000-0000-000000000000"},
        {"jti": "another-jti"},
    ],
    ids=["exp", "token_type", "user_id", "jti"],
)
def test_tampered_claims_with_the_old_signature_are_refused(user, change):
    header, _body, signature = str(AccessToken.for_user(user)).split(".")
    _assert_refused(f"{header}.{_segment(_claims(user) | change)}.{signature}")


def test_victims_id_in_an_attackers_token_is_refused(user, make_user):
    attacker = make_user()
    header, _body, signature = str(AccessToken.for_user(attacker)).split(".")
    _assert_refused(f"{header}.{_segment(_claims(user))}.{signature}")


def test_expired_token_is_refused(user):
    """Time travel without sleeping: a correctly signed token whose `exp` is in the past."""
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(days=4))
    _assert_refused(str(token))


def test_correctly_signed_refresh_type_token_is_refused(user):
    _assert_refused(jwt.encode(_claims(user) | {"token_type": "refresh"}, settings.JWT_SECRET))


def test_token_without_a_user_claim_is_refused(user):
    claims = _claims(user)
    del claims["user_id"]
    _assert_refused(jwt.encode(claims, settings.JWT_SECRET))


def test_logged_out_token_is_refused(user):
    token = str(AccessToken.for_user(user))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post("/api/auth/logout").status_code == 200
    _assert_refused(token)


def test_token_of_a_deactivated_user_is_refused(user):
    token = str(AccessToken.for_user(user))
    user.is_active = False
    user.save(update_fields=["is_active"])
    _assert_refused(token)


def test_token_of_a_deleted_user_is_refused(user):
    token = str(AccessToken.for_user(user))
    user.delete()
    _assert_refused(token)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Basic dXNlcjpwYXNz",
        "bearer x.y.z",
        "Bearer \u00e9.\u00e9.\u00e9",
    ],
)
def test_malformed_authorization_headers_are_clean_401s(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/accounts")
    assert response.status_code == 401, response.content
    assert_clean_refusal(response)

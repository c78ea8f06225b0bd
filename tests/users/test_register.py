"""POST /api/auth/register, row by row of API.md."""

import pytest
from django.conf import settings

from users.models import User

URL = "/api/auth/register"
GOOD = {"name": "Naman", "email": "naman@example.com", "password": "correct-horse-battery"}


def test_register_returns_user_token_and_sets_the_cookie(client_anon):
    response = client_anon.post(URL, GOOD, format="json")
    assert response.status_code == 201
    body = response.json()
    user = User.objects.get(email="naman@example.com")
    assert body["user"] == {"_id": str(user.id), "name": "Naman", "email": "naman@example.com"}
    assert body["token"]
    cookie = response.cookies["token"]
    assert cookie.value == body["token"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert int(cookie["max-age"]) == settings.JWT_LIFETIME


def test_password_is_stored_as_bcrypt_sha256(client_anon):
    client_anon.post(URL, GOOD, format="json")
    stored = User.objects.get(email="naman@example.com").password
    assert stored.startswith("bcrypt_sha256$")
    assert GOOD["password"] not in stored


def test_bcrypt_sha256_is_the_first_configured_hasher():
    # The suite swaps in a 4-round subclass for speed; production order is asserted here.
    from bankledger.settings import auth

    assert auth.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.BCryptSHA256PasswordHasher"


@pytest.mark.parametrize("missing", ["name", "email", "password"])
def test_missing_field_is_400(client_anon, missing):
    body = {k: v for k, v in GOOD.items() if k != missing}
    response = client_anon.post(URL, body, format="json")
    assert response.status_code == 400
    assert missing in response.json()["errors"]
    assert not User.objects.exists()


def test_bad_email_is_400(client_anon):
    response = client_anon.post(URL, {**GOOD, "email": "not-an-email"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["errors"]


@pytest.mark.parametrize(
    "password",
    [
        "password123",  # the original README's example: a common password
        "short1!",  # under 8 characters
        "8472910365",  # all numeric
        "naman@example.com1",  # too similar to the email
    ],
)
def test_weak_password_is_400_and_creates_nothing(client_anon, password):
    response = client_anon.post(URL, {**GOOD, "password": password}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["errors"]["password"]
    assert not User.objects.exists()


def test_same_email_in_another_case_is_422(client_anon):
    assert client_anon.post(URL, GOOD, format="json").status_code == 201
    response = client_anon.post(URL, {**GOOD, "email": "NAMAN@Example.COM"}, format="json")
    assert response.status_code == 422
    assert response.json() == {
        "message": "User already exists with email.",
        "code": "email_taken",
        "status": "failed",
    }
    assert User.objects.count() == 1


def test_response_never_carries_password_or_system_flag(client_anon):
    response = client_anon.post(URL, GOOD, format="json")
    text = response.content.decode()
    assert "password" not in text
    assert "systemUser" not in text
    assert "bcrypt" not in text

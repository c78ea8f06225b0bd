"""POST /api/auth/login and its brute-force throttle."""

import pytest
from django.test import override_settings

from tests.conftest import PASSWORD

URL = "/api/auth/login"
INVALID = {"message": "Email or password is INVALID", "code": "invalid_credentials"}


def test_login_returns_user_token_and_cookie(client_anon, make_user):
    user = make_user(email="ana@example.com", name="Ana")
    response = client_anon.post(
        URL, {"email": "ana@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {"_id": str(user.id), "name": "Ana", "email": "ana@example.com"}
    assert response.cookies["token"].value == body["token"]
    assert response.cookies["token"]["httponly"] is True


def test_email_is_case_insensitive(client_anon, make_user):
    make_user(email="ana@example.com")
    response = client_anon.post(
        URL, {"email": "ANA@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200


def test_wrong_password_and_unknown_email_answer_the_same(client_anon, make_user):
    make_user(email="ana@example.com")
    wrong = client_anon.post(
        URL, {"email": "ana@example.com", "password": "nope-nope-nope"}, format="json"
    )
    unknown = client_anon.post(
        URL, {"email": "who@example.com", "password": PASSWORD}, format="json"
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == INVALID


def test_inactive_user_cannot_log_in(client_anon, make_user):
    user = make_user(email="ana@example.com")
    user.is_active = False
    user.save()
    response = client_anon.post(
        URL, {"email": "ana@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 401


def _fail(client, email="ana@example.com", address="10.0.0.1"):
    return client.post(
        URL, {"email": email, "password": "wrong-password!"}, format="json", REMOTE_ADDR=address
    )


@pytest.fixture(params=["database-cache", "redis"])
def caches(request):
    """The shared cache the throttle counts in: the default (the database) or Redis."""
    if request.param == "database-cache":
        return None
    url = request.getfixturevalue("redis_url")
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}


def test_repeated_failures_for_one_email_get_429_even_with_the_right_password(
    client_anon, make_user, settings, caches
):
    make_user(email="ana@example.com")
    with override_settings(**({"CACHES": caches} if caches else {})):
        from django.core.cache import cache

        cache.clear()
        for _ in range(settings.LOGIN_FAILURES_PER_EMAIL):
            assert _fail(client_anon).status_code == 401
        throttled = client_anon.post(
            URL, {"email": "ana@example.com", "password": PASSWORD}, format="json"
        )
        assert throttled.status_code == 429
        assert throttled.json()["code"] == "too_many_attempts"
        assert 0 < int(throttled["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW
        # Another email is not affected by this email's counter.
        make_user(email="bo@example.com")
        other = client_anon.post(
            URL, {"email": "bo@example.com", "password": PASSWORD}, format="json"
        )
        assert other.status_code == 200
        cache.clear()


def test_repeated_failures_from_one_address_get_429(client_anon, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    for i in range(3):
        assert _fail(client_anon, email=f"u{i}@example.com").status_code == 401
    assert _fail(client_anon, email="fresh@example.com").status_code == 429
    assert _fail(client_anon, email="fresh@example.com", address="10.0.0.2").status_code == 401


def test_throttle_window_ends(client_anon, make_user, settings, monkeypatch):
    make_user(email="ana@example.com")
    for _ in range(settings.LOGIN_FAILURES_PER_EMAIL):
        _fail(client_anon)
    assert _fail(client_anon).status_code == 429
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + settings.LOGIN_FAILURE_WINDOW + 1)
    response = client_anon.post(
        URL, {"email": "ana@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200


def test_success_resets_the_email_counter(client_anon, make_user, settings):
    make_user(email="ana@example.com")
    for _ in range(settings.LOGIN_FAILURES_PER_EMAIL - 1):
        _fail(client_anon)
    ok = client_anon.post(URL, {"email": "ana@example.com", "password": PASSWORD}, format="json")
    assert ok.status_code == 200
    assert _fail(client_anon).status_code == 401

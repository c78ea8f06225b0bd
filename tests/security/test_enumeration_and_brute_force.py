"""Nobody can learn which emails have accounts (except through register's 422, which API.md
mandates: see the README's threat model), and password guessing is throttled."""

import pytest

from tests.conftest import PASSWORD
from tests.security.hashers import CountingHasher
from tests.security.responses import assert_clean_refusal

LOGIN = "/api/auth/login"
REGISTER = "/api/auth/register"


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.security.hashers.CountingHasher"]
    CountingHasher.calls = 0
    return CountingHasher


def _login(client, email, password="wrong-password-123", address="10.1.1.1", **extra):
    return client.post(
        LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=address, **extra
    )


def _hashes_for(hasher, request):
    before = hasher.calls
    response = request()
    return response, hasher.calls - before


def test_unknown_email_and_wrong_password_cost_the_same_one_hash(
    client_anon, make_user, counting_hasher
):
    """The timing side channel: an unknown email must not skip the (slow) password hash."""
    make_user(email="known@example.com")
    wrong, wrong_hashes = _hashes_for(
        counting_hasher, lambda: _login(client_anon, "known@example.com")
    )
    unknown, unknown_hashes = _hashes_for(
        counting_hasher, lambda: _login(client_anon, "unknown@example.com")
    )
    assert wrong_hashes == unknown_hashes == 1
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert dict(wrong.headers).keys() == dict(unknown.headers).keys()


def test_a_deactivated_account_looks_like_a_wrong_password(client_anon, make_user, counting_hasher):
    user = make_user(email="gone@example.com")
    user.is_active = False
    user.save(update_fields=["is_active"])
    inactive, inactive_hashes = _hashes_for(
        counting_hasher, lambda: _login(client_anon, "gone@example.com", PASSWORD)
    )
    unknown = _login(client_anon, "never@example.com", PASSWORD)
    assert inactive_hashes == 1
    assert inactive.status_code == unknown.status_code == 401
    assert inactive.json() == unknown.json()


def test_register_hashes_the_password_whether_or_not_the_email_is_taken(
    client_anon, counting_hasher
):
    body = {"name": "Ana", "email": "ana@example.com", "password": PASSWORD}
    first, first_hashes = _hashes_for(
        counting_hasher, lambda: client_anon.post(REGISTER, body, format="json")
    )
    taken, taken_hashes = _hashes_for(
        counting_hasher, lambda: client_anon.post(REGISTER, body, format="json")
    )
    assert (first.status_code, taken.status_code) == (201, 422)
    assert first_hashes == taken_hashes == 1


def test_a_weak_password_is_refused_before_the_email_is_looked_up(client_anon, make_user):
    """Probing with a throwaway weak password learns nothing: the 400 comes first."""
    make_user(email="taken@example.com")
    for email in ("taken@example.com", "free@example.com"):
        response = client_anon.post(
            REGISTER, {"name": "X", "email": email, "password": "123"}, format="json"
        )
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["password"]


def test_guessing_one_password_is_throttled_for_known_and_unknown_emails_alike(
    client_anon, make_user, settings
):
    make_user(email="victim@example.com")
    for email in ("victim@example.com", "nobody@example.com"):
        statuses = [
            _login(client_anon, email).status_code for _ in range(settings.LOGIN_FAILURES_PER_EMAIL)
        ]
        assert statuses == [401] * settings.LOGIN_FAILURES_PER_EMAIL
        blocked = _login(client_anon, email, PASSWORD)
        assert blocked.status_code == 429
        assert int(blocked["Retry-After"]) > 0
        assert_clean_refusal(blocked)


def test_spraying_many_emails_from_one_address_is_throttled(client_anon, make_user, settings):
    """Credential stuffing: one guess per email, many emails, one client address."""
    make_user(email="real@example.com")
    for n in range(settings.LOGIN_FAILURES_PER_ADDRESS):
        assert _login(client_anon, f"spray{n}@example.com").status_code == 401
    blocked = _login(client_anon, "real@example.com", PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0


def test_a_forged_forwarded_for_header_does_not_reset_the_address_counter(client_anon, settings):
    for n in range(settings.LOGIN_FAILURES_PER_ADDRESS):
        _login(client_anon, f"spray{n}@example.com", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert (
        _login(client_anon, "next@example.com", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code
        == 429
    )


def test_letter_case_and_spaces_do_not_make_a_fresh_counter(client_anon, make_user, settings):
    make_user(email="ana@example.com")
    variants = ["ana@example.com", "ANA@example.com", " Ana@Example.com ", "aNa@EXAMPLE.COM"]
    for n in range(settings.LOGIN_FAILURES_PER_EMAIL):
        _login(client_anon, variants[n % len(variants)], address=f"10.2.0.{n}")
    assert _login(client_anon, "ana@example.com", PASSWORD, address="10.3.0.1").status_code == 429

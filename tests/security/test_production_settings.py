"""Production settings (DEBUG off), loaded for real in a subprocess: HSTS, nosniff, a strict
referrer policy, secure cookies, HTTPS redirect, `check --deploy` clean, and no start at all
without a strong JWT secret. The headers are then checked on real responses."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
STRONG_SECRET = "s" * 48
_SETTINGS = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "AUTH_COOKIE_SECURE",
    "X_FRAME_OPTIONS",
]


def _production_env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS and k != "JWT_SECRET"}
    env.update(
        DEBUG="false", JWT_SECRET=STRONG_SECRET, DJANGO_SETTINGS_MODULE="bankledger.settings"
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_production_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def production():
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{k: getattr(settings, k) for k in {_SETTINGS!r}}}))"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_defaults_are_strict(production):
    assert production["DEBUG"] is False
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production["SECURE_REFERRER_POLICY"] in ("same-origin", "no-referrer", "strict-origin")
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["AUTH_COOKIE_SECURE"] is True
    assert production["X_FRAME_OPTIONS"] == "DENY"


@pytest.fixture
def as_production(settings, production):
    for name, value in production.items():
        setattr(settings, name, value)
    return settings


def test_https_responses_carry_the_security_headers_and_a_secure_cookie(as_production, make_user):
    make_user(email="prod@example.com")
    response = APIClient().post(
        "/api/auth/login",
        {"email": "prod@example.com", "password": PASSWORD},
        format="json",
        secure=True,
    )
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == as_production.SECURE_REFERRER_POLICY
    assert response["X-Frame-Options"] == "DENY"
    cookie = response.cookies["token"]
    assert cookie["secure"] is True and cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_plain_http_is_redirected_to_https_except_the_health_check(as_production, db):
    response = APIClient().get("/api/accounts")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert APIClient().get("/api/health").status_code == 200


def test_check_deploy_is_clean():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("secret", [None, "", "x" * 31], ids=["unset", "empty", "31-bytes"])
def test_production_refuses_to_start_without_a_strong_jwt_secret(secret):
    result = _run("import django; django.setup()", JWT_SECRET=secret)
    assert result.returncode != 0
    assert "JWT_SECRET" in result.stderr

"""Shared fixtures: real database (SQLite file or PostgreSQL from DATABASE_URL), real bcrypt,
users and accounts made through the same services the API uses."""

import base64
import itertools
import os
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import account_create, system_user_create
from tests.mailserver import SmtpServer
from transactions.services import initial_funds_create
from users.services import token_issue, user_create

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count()
CHROMIUM = Path("/usr/bin/chromium")
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def unavailable(what_to_start: str, *, required_by: str) -> None:
    """Skip a test whose outside server or program is missing, saying what to start; fail
    instead when the environment variable `required_by` is `required` (as .ci/run sets it), so
    CI can never pass by skipping."""
    if os.environ.get(required_by) == "required":
        pytest.fail(f"{what_to_start} ({required_by}=required)")
    pytest.skip(what_to_start)


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium, which the browser tests drive (BROWSER_TESTS=required in CI)."""
    if not CHROMIUM.exists():
        unavailable(
            f"{CHROMIUM} is missing: apt-get install -y chromium", required_by="BROWSER_TESTS"
        )
    return CHROMIUM


@pytest.fixture
def redis_url() -> str:
    """A Redis server for the tests that use one (REDIS_TEST_URL, database 15 by default), which
    `make test` does not ask for: skipped when none answers, unless SERVICE_TESTS=required."""
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        unavailable(
            f"no Redis answers at {REDIS_TEST_URL}: start one (apt-get install -y redis-server; "
            "redis-server --daemonize yes) or set REDIS_TEST_URL",
            required_by="SERVICE_TESTS",
        )
    finally:
        client.close()
    return REDIS_TEST_URL


# The suite signs receipts and checkpoints with a key of its own, made for this run; child
# processes (manage.py, gunicorn) inherit it through the environment.
SIGNING_KEY = os.environ.setdefault("LEDGER_SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())


@pytest.fixture(autouse=True)
def _signing_key(settings):
    settings.LEDGER_SIGNING_KEY = SIGNING_KEY


@pytest.fixture(autouse=True)
def _fast_bcrypt(settings):
    settings.PASSWORD_HASHERS = ["tests.hashers.FastBCryptSHA256PasswordHasher"]


@pytest.fixture
def client_anon(db):
    cache.clear()  # login-throttle counters from an earlier test must not leak
    return APIClient()


@pytest.fixture
def make_user(db):
    def make(*, email=None, name="Test User", password=PASSWORD, **extra):
        email = email or f"user{next(_counter)}@example.com"
        return user_create(email=email, name=name, password=password, **extra)

    return make


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def system_user(db):
    return system_user_create(email=f"system{next(_counter)}@example.com", password=PASSWORD)


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user)}")
    return client


@pytest.fixture
def api(user):
    """An API client authenticated as `user` with a Bearer token."""
    return client_for(user)


@pytest.fixture
def system_api(system_user):
    return client_for(system_user)


@pytest.fixture
def fund(system_user):
    """fund(account, "100.00"): seed an account through the initial-funds service."""

    def fund(account, amount):
        return initial_funds_create(
            initiator=system_user,
            to_account_id=str(account.id),
            amount=Decimal(str(amount)),
            idempotency_key=f"seed-{next(_counter)}",
        ).transaction

    return fund


@pytest.fixture
def make_account(db):
    def make(owner, currency=None):
        return account_create(user=owner, currency=currency)

    return make


@pytest.fixture
def smtp():
    """A real SMTP server on loopback that keeps every message it accepts."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def post(user, make_user, make_account, fund):
    """post(n): n completed transfers of 1.25 from a funded account of `user`, oldest first."""
    from tests.transactions.helpers import transfer

    sender, receiver = make_account(user), make_account(make_user())
    fund(sender, "1000000")

    def post(n: int):
        return [transfer(sender, receiver, "1.25") for _ in range(n)]

    return post

"""Rate limits (API.md "Rate limits and quotas"): a burst over each limit is 429 `rate_limited`
with `Retry-After`, every limited response carries the RateLimit header fields, and a refused
request changes nothing. Each test runs with the counters in the database and in Redis.

Rates are per day, so a burst never straddles a window boundary in practice."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Account
from tests.conftest import PASSWORD, client_for
from users.models import User

REDIS_URL = "redis://127.0.0.1:6379/3"


@pytest.fixture(params=["database", "redis"])
def counters(request, settings, db):
    """Where the counters live; Redis is the brief's database 3, emptied before and after."""
    if request.param == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
            }
        }
        settings.RATE_LIMIT_COUNTERS = "cache"
        cache.clear()
        yield request.param
        cache.clear()
    else:
        settings.RATE_LIMIT_COUNTERS = "database"
        yield request.param


@pytest.fixture
def limits(settings, counters):
    def set_limits(**rates):
        settings.RATE_LIMITS = {"writes": None, "reads": None, "register": None, **rates}

    return set_limits


def assert_headers(response, limit: int, remaining: int) -> None:
    assert response["RateLimit-Limit"] == str(limit)
    assert response["RateLimit-Remaining"] == str(remaining)
    assert 0 < int(response["RateLimit-Reset"]) <= 86400


def assert_limited(response, limit: int) -> None:
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert set(response.json()) == {"message", "code"}
    assert 0 < int(response["Retry-After"]) <= 86400
    assert_headers(response, limit, 0)


def test_writes_over_the_limit_are_429_and_open_nothing(limits, api, user):
    limits(writes="3/day")
    for remaining in (2, 1, 0):
        response = api.post("/api/accounts", {}, format="json")
        assert response.status_code == 201
        assert_headers(response, 3, remaining)
    assert_limited(api.post("/api/accounts", {}, format="json"), 3)
    assert Account.objects.filter(user=user).count() == 3


def test_refusals_count_and_carry_the_headers(limits, api):
    limits(writes="2/day")
    refused = api.post("/api/accounts", {"currency": "XYZ"}, format="json")
    assert refused.status_code == 400
    assert_headers(refused, 2, 1)


def test_reads_have_their_own_limit(limits, api):
    limits(reads="2/day", writes="5/day")
    assert api.get("/api/accounts").status_code == 200
    assert api.get("/api/accounts").status_code == 200
    assert_limited(api.get("/api/accounts"), 2)
    assert api.post("/api/accounts", {}, format="json").status_code == 201


def test_each_caller_has_its_own_counter(limits, make_user):
    limits(writes="1/day")
    first, second = client_for(make_user()), client_for(make_user())
    assert first.post("/api/accounts", {}, format="json").status_code == 201
    assert first.post("/api/accounts", {}, format="json").status_code == 429
    assert second.post("/api/accounts", {}, format="json").status_code == 201


def register(client: APIClient, n: int, **extra):
    body = {"name": "Rate", "email": f"rate{n}@example.com", "password": PASSWORD}
    return client.post("/api/auth/register", body, format="json", **extra)


def test_register_is_limited_per_address_and_creates_nobody_over_it(limits):
    limits(register="2/day")
    client = APIClient()
    assert register(client, 1).status_code == 201
    assert_headers(register(client, 2), 2, 0)
    # A forged X-Forwarded-For does not make a new client address.
    assert_limited(register(client, 3, HTTP_X_FORWARDED_FOR="203.0.113.9"), 2)
    assert not User.objects.filter(email="rate3@example.com").exists()
    assert register(client, 4, REMOTE_ADDR="198.51.100.7").status_code == 201


def test_register_does_not_use_the_writes_limit(limits):
    limits(register="5/day", writes="1/day")
    client = APIClient()
    assert register(client, 1).status_code == 201
    assert register(client, 2).status_code == 201


def test_unauthenticated_calls_are_limited_per_address(limits, user):
    limits(writes="2/day")
    client = APIClient()
    login = {"email": user.email, "password": PASSWORD}
    assert client.post("/api/auth/login", login, format="json").status_code == 200
    assert client.post("/api/auth/login", login, format="json").status_code == 200
    assert_limited(client.post("/api/auth/login", login, format="json"), 2)
    other = APIClient(REMOTE_ADDR="198.51.100.8")
    assert other.post("/api/auth/login", login, format="json").status_code == 200


def test_health_is_not_limited(limits):
    limits(reads="1/day")
    client = APIClient()
    for _ in range(3):
        response = client.get("/api/health")
        assert response.status_code == 200
        assert "RateLimit-Limit" not in response


def test_a_limit_set_to_nothing_is_off(limits, api):
    limits()
    response = api.get("/api/accounts")
    assert response.status_code == 200
    assert "RateLimit-Limit" not in response


@pytest.mark.django_db
def test_an_unreachable_redis_lets_requests_through(settings, api):
    """A cache outage must not take the API down: the call is served, uncounted."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:8549/3",
        }
    }
    settings.RATE_LIMIT_COUNTERS = "cache"
    settings.RATE_LIMITS = {"writes": "1/day", "reads": "1/day", "register": None}
    for _ in range(2):
        response = api.post("/api/accounts", {}, format="json")
        assert response.status_code == 201
        assert "RateLimit-Limit" not in response

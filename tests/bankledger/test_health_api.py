"""GET /api/health: 200 with the database answering; 503 JSON when it cannot be reached.

"Down" is real: the default connection is swapped for one aimed at a closed port, so the
health check's own query fails the way it would in an outage."""

import socket

import pytest
from django.db import connections
from django.db.utils import load_backend
from django.test import Client

URL = "/api/health"


@pytest.mark.django_db
def test_healthy():
    response = Client().get(URL)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends


@pytest.fixture
def database_down(db):
    settings_dict = {
        **connections["default"].settings_dict,
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": _closed_port(),
        "NAME": "unreachable",
        "USER": "nobody",
        "OPTIONS": {"connect_timeout": 2},
        "CONN_HEALTH_CHECKS": False,
    }
    dead = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
    healthy = connections["default"]
    connections["default"] = dead
    yield
    connections["default"] = healthy
    dead.close()


def test_database_down_is_503_json(database_down):
    response = Client().get(URL)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["code"] == "service_unavailable"
    assert response["Retry-After"]


def test_health_needs_no_token_and_ignores_a_bad_one(db):
    response = Client().get(URL, headers={"Authorization": "Bearer garbage"})
    assert response.status_code == 200

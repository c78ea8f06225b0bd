"""Each request is logged once, as one JSON line in production's format, with a request id that
the response echoes in `X-Request-ID` so a client can quote it."""

import io
import json
import logging

import pytest
from django.test import Client

from bankledger.core.logs import logging_config


@pytest.fixture
def log_lines():
    """What the production handler writes, as parsed JSON lines."""
    config = logging_config(json=True, level="INFO")["formatters"]["structured"]
    formatter = config.pop("()")(**config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def _requests(lines, request_id):
    return [line for line in lines if line.get("request_id") == request_id]


@pytest.mark.django_db
def test_a_4xx_is_one_line_with_the_id_of_the_response(log_lines):
    response = Client().get("/api/accounts")
    assert response.status_code == 401
    request_id = response["X-Request-ID"]
    [line] = _requests(log_lines(), request_id)
    assert line["event"] == "request" and line["level"] == "warning"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/accounts", 401)
    assert line["logger"] == "bankledger.requests" and "timestamp" in line


@pytest.mark.django_db
def test_a_client_id_is_echoed_and_a_forged_one_replaced(log_lines):
    kept = Client().get("/api/health", headers={"X-Request-ID": "trace-42.a:b"})
    assert kept["X-Request-ID"] == "trace-42.a:b"
    forged = Client().get("/api/health", headers={"X-Request-ID": 'x" status=200 y'})
    assert forged["X-Request-ID"] != 'x" status=200 y'
    assert len(forged["X-Request-ID"]) == 32
    lines = log_lines()
    assert len(_requests(lines, "trace-42.a:b")) == 1
    assert len(_requests(lines, forged["X-Request-ID"])) == 1


@pytest.mark.django_db
def test_the_user_is_named_on_the_line(log_lines, api, user):
    response = api.get("/api/accounts")
    assert response.status_code == 200
    [line] = _requests(log_lines(), response["X-Request-ID"])
    assert line["user_id"] == str(user.id)

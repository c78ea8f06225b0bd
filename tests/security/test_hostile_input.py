"""Injection strings, unicode oddities, control characters, very long values and wrong types in
every field of every write; malformed, oversized and mistyped bodies. The answer is a clean
JSON 4xx or correct handling, never a 500, and the ledger stays balanced."""

import itertools
import json
from urllib.parse import quote

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, client_for
from tests.security.responses import assert_clean_refusal, assert_safe

_n = itertools.count()

HOSTILE = [
    "' OR '1'='1",
    "'; DROP TABLE users_user; --",
    '" OR ""="',
    "1) UNION SELECT password FROM users_user --",
    "{{7*7}}${7*7}",
    "${jndi:ldap://127.0.0.1/a}",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "%00%0d%0a",
    "a\x00b",
    "\x1b[2J\x07\x08",
    "line\r\nSet-Cookie: token=x",
    "\u202egnp.exe",
    "\u200b\u200d\ufeff",
    "\U0001d552\U0001d555\U0001d55e\U0001d55a\U0001d55f",
    "\uff21\uff24\uff2d\uff29\uff2e",
    "e\u0301\u0301\u0301\u0301",
    "\ud800",
    "\U0001f4b8" * 64,
    "",
    " ",
    "x" * 10_000,
    "9" * 5_000,
    "-1",
    "NaN",
    "Infinity",
    "1e3",
    0,
    -1,
    10**30,
    True,
    None,
    [],
    ["a"],
    {"$gt": ""},
]
IDS = [f"v{i}" for i in range(len(HOSTILE))]


@pytest.fixture
def world(make_user, make_account, fund, system_user):
    user = make_user()
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "1000.00")
    return {"user": user, "sender": sender, "receiver": receiver, "system": system_user}


def _register_body(world):
    return {"name": "Ana", "email": f"ana{next(_n)}@example.com", "password": PASSWORD}


def _login_body(world):
    return {"email": world["user"].email, "password": PASSWORD}


def _account_body(world):
    return {"currency": "INR"}


def _transfer_body(world):
    return {
        "fromAccount": str(world["sender"].id),
        "toAccount": str(world["receiver"].id),
        "amount": "1.00",
        "idempotencyKey": f"key-{next(_n)}",
    }


def _funds_body(world):
    return {
        "toAccount": str(world["receiver"].id),
        "amount": "1.00",
        "idempotencyKey": f"f{next(_n)}",
    }


# (path, who calls it, a valid body, the fields to attack)
WRITES = [
    ("/api/auth/register", None, _register_body, ["name", "email", "password"]),
    ("/api/auth/login", None, _login_body, ["email", "password"]),
    ("/api/accounts", "user", _account_body, ["currency"]),
    (
        "/api/transactions",
        "user",
        _transfer_body,
        ["fromAccount", "toAccount", "amount", "idempotencyKey"],
    ),
    (
        "/api/transactions/system/initial-funds",
        "system",
        _funds_body,
        ["toAccount", "amount", "idempotencyKey"],
    ),
]
CASES = [(path, who, make, field) for path, who, make, fields in WRITES for field in fields]


def _client(world, who):
    return APIClient() if who is None else client_for(world[who])


def _assert_handled(response):
    assert response.status_code < 500, (response.status_code, response.content[:300])
    assert_safe(response)
    if response.status_code >= 400:
        assert_clean_refusal(response)


@pytest.mark.parametrize(
    ("path", "who", "make", "field"), CASES, ids=[f"{c[0]}:{c[3]}" for c in CASES]
)
def test_every_field_survives_every_hostile_value(world, path, who, make, field):
    client = _client(world, who)
    for value in HOSTILE:
        body = make(world) | {field: value}
        raw = json.dumps(body)  # escapes the lone surrogate as \ud800, as a real client would
        response = client.post(
            path, raw, content_type="application/json", REMOTE_ADDR=f"10.9.{next(_n) % 250}.1"
        )
        _assert_handled(response)
    call_command("verify_ledger")


@pytest.mark.parametrize("field", ["fromAccount", "toAccount", "amount"])
def test_money_never_moves_on_a_hostile_value(world, field):
    client = client_for(world["user"])
    for value in HOSTILE:
        raw = json.dumps(_transfer_body(world) | {field: value})
        response = client.post("/api/transactions", raw, content_type="application/json")
        assert response.status_code == 400, (value, response.content[:300])
    world["sender"].refresh_from_db()
    assert world["sender"].balance == 100000


@pytest.mark.parametrize("value", HOSTILE[:22], ids=IDS[:22])
def test_hostile_ids_in_the_path_are_clean_404s(world, value):
    segment = quote(str(value), safe="", errors="surrogatepass")
    response = client_for(world["user"]).get(f"/api/accounts/balance/{segment}")
    assert response.status_code == 404, response.content[:300]
    assert_clean_refusal(response)


def test_hostile_idempotency_key_header_is_handled(world):
    client = client_for(world["user"])
    body = _transfer_body(world)
    del body["idempotencyKey"]
    for value in ["' OR 1=1 --", "a\x00b", "x" * 300, "\r\n", "\x7f\x1b"]:
        response = client.post("/api/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY=value)
        _assert_handled(response)
        if value in ("a\x00b", "x" * 300):
            assert response.status_code == 400, response.content[:300]


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b"\xff\xfe{}",
        b'{"name": "\xc3\x28"}',
        b"\xef\xbb\xbf{}",
        b'{"email": "a@example.com", "email": ["x"]}',
        b"1" * 5000,
        b"",
        b"null",
        b"[]",
        b'"a string"',
        b"{'single': 'quotes'}",
        b'{"amount": NaN}',
        b'{"amount": -Infinity}',
    ],
    ids=lambda raw: raw[:16].decode("latin-1"),
)
@pytest.mark.parametrize("path", ["/api/auth/register", "/api/auth/login", "/api/transactions"])
def test_malformed_json_is_a_clean_400(world, path, raw):
    client = client_for(world["user"])
    response = client.post(path, raw, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert_clean_refusal(response)


@pytest.mark.parametrize("path", ["/api/auth/register", "/api/auth/login", "/api/transactions"])
def test_a_body_over_the_cap_is_413(world, settings, path):
    big = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = client_for(world["user"]).post(path, big, content_type="application/json")
    assert response.status_code == 413, response.content[:300]
    assert response.json()["code"] == "payload_too_large"
    assert_clean_refusal(response)


def test_a_content_length_over_the_cap_is_refused_before_reading(world, settings):
    """The declared length decides: the server does not wait for (or read) the body."""
    response = client_for(world["user"]).post(
        "/api/transactions",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
    )
    assert response.status_code == 413, response.content[:300]
    assert_clean_refusal(response)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/xml",
        "text/html",
        "application/octet-stream",
    ],
)
@pytest.mark.parametrize("path", ["/api/auth/register", "/api/transactions", "/api/accounts"])
def test_wrong_content_types_are_415(world, path, content_type):
    body = json.dumps(_transfer_body(world) | _register_body(world))
    response = client_for(world["user"]).post(path, body, content_type=content_type)
    assert response.status_code == 415, response.content[:300]
    assert_clean_refusal(response)

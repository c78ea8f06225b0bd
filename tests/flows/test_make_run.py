"""`make run` from the README serves the API a user can drive end to end over real HTTP."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from accounts.management.commands.ensure_dev_system_user import DEV_EMAIL, DEV_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PORT = 8301


def _call(method, path, body=None, token=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/api{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers


def _wait_for_port(deadline):
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", PORT)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"make run did not listen on {PORT}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = tmp_path_factory.mktemp("run") / "run.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG"}}
    env |= {"DATABASE_URL": f"sqlite:///{database}", "PORT": str(PORT)}
    process = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_for_port(time.monotonic() + 180)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        print(output)


def test_register_transfer_and_read_the_balance_over_http(server):
    status, body, headers = _call(
        "POST",
        "/auth/register",
        {"name": "Naman", "email": "naman@example.com", "password": "correct-horse-battery"},
    )
    assert status == 201
    assert set(body) == {"user", "token"}
    assert "token=" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"]
    token = body["token"]

    status, first, _ = _call("POST", "/accounts", token=token)
    assert status == 201
    _, second, _ = _call("POST", "/accounts", token=token)
    first_id, second_id = first["account"]["_id"], second["account"]["_id"]

    status, login, _ = _call("POST", "/auth/login", {"email": DEV_EMAIL, "password": DEV_PASSWORD})
    assert status == 200, "make run must create the development system user it prints"
    seed = {"toAccount": first_id, "amount": 1000, "idempotencyKey": "seed-1"}
    status, _, _ = _call("POST", "/transactions/system/initial-funds", seed, token=login["token"])
    assert status == 201

    move = {
        "fromAccount": first_id,
        "toAccount": second_id,
        "amount": "250.25",
        "idempotencyKey": "t1",
    }
    assert _call("POST", "/transactions", move, token=token)[0] == 201
    assert _call("POST", "/transactions", move, token=token)[0] == 200
    status, balance, _ = _call("GET", f"/accounts/balance/{first_id}", token=token)
    assert (status, balance["balance"]) == (200, "749.75")

    assert _call("POST", "/auth/logout", token=token)[0] == 200
    assert _call("GET", "/accounts", token=token)[0] == 401

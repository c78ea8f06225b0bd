"""`make run` from the README serves the API a user can drive end to end over real HTTP, on
this machine only, with a development system user whose password is this checkout's own, and
logs each request once."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from accounts.management.commands.ensure_dev_system_user import DEV_EMAIL

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PORT = _free_port()


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


class Run:
    """The running `make run`: its output so far and its development password file."""

    def __init__(self, folder: Path):
        self.log = folder / "make-run.log"
        self.password_file = folder / ".dev-system-user"

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    run = Run(folder)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "HOST"}}
    env |= {
        "DATABASE_URL": f"sqlite:///{folder / 'run.sqlite3'}",
        "PORT": str(PORT),
        "DEV_SYSTEM_USER_FILE": str(run.password_file),
    }
    with run.log.open("w") as log:
        process = subprocess.Popen(
            ["make", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        _wait_for_port(time.monotonic() + 180)
        yield run
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        print(run.output())


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the IPv4 sockets listening on `port` (Linux's /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, local_port = local.split(":")
        if state == "0A" and int(local_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_it_listens_on_this_machine_only(server):
    assert _listening_addresses(PORT) == {"127.0.0.1"}


def test_the_system_users_password_is_this_checkouts_and_shown_once(server):
    password = server.password_file.read_text().strip()
    assert len(password) >= 20 and password != "Seed-Funds-Locally-2000"
    assert server.output().count(password) == 1
    status, _, _ = _call("POST", "/auth/login", {"email": DEV_EMAIL, "password": password})
    assert status == 200


def test_each_request_is_logged_once_with_the_id_the_client_can_quote(server):
    status, _, headers = _call("GET", "/accounts")
    assert status == 401
    request_id = headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    deadline = time.monotonic() + 10
    while request_id not in server.output() and time.monotonic() < deadline:
        time.sleep(0.2)
    output = server.output()
    [line] = [line for line in output.splitlines() if request_id in line]
    assert "status=401" in line and "path=/api/accounts" in line
    assert '"GET /api/accounts HTTP/1.1" 401' not in output  # runserver's own access line
    assert output.count("Unauthorized: /api/accounts") == 0
    assert output.count("Watching for file changes") == 1


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

    password = server.password_file.read_text().strip()
    status, login, _ = _call("POST", "/auth/login", {"email": DEV_EMAIL, "password": password})
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

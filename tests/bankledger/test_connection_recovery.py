"""Without a `SELECT 1` before every request, a worker whose database connection died (the
server restarted, the backend was terminated) still recovers: the request that meets the dead
connection answers 503 and closes it, the next one connects again. A real server (granian, the
production one, and gunicorn), so the connection outlives the request as in production."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.manage_subprocess import database_url
from tests.users.test_rate_limits_server import listening_socket
from users.services import token_issue

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL backends"),
    pytest.mark.django_db(transaction=True),
]


def call(url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def terminate_other_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def serve(name: str, port: int, env: dict, log) -> subprocess.Popen:
    """One worker of `name` on 127.0.0.1:`port`, answering once this returns."""
    bin_dir = Path(sys.executable).parent
    command = {
        "granian": [
            str(bin_dir / "granian"),
            "--interface=wsgi",
            "--host=127.0.0.1",
            f"--port={port}",
            "--workers=1",
            "--blocking-threads=1",
            "bankledger.wsgi:application",
        ],
        "gunicorn": [
            str(bin_dir / "gunicorn"),
            "bankledger.wsgi",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
        ],
    }[name]
    server = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"{name} did not start on port {port}")


@pytest.mark.parametrize("server_name", ["granian", "gunicorn"])
def test_a_worker_whose_connection_was_terminated_answers_503_once_then_reconnects(
    server_name, user, make_account, fund, tmp_path
):
    source, target = make_account(user), make_account(user)
    fund(source, "10.00")
    token = token_issue(user=user)
    env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "true", "LOG_LEVEL": "WARNING"}
    env.pop("TEST_DATABASE_NAME", None)
    transfer = {
        "fromAccount": str(source.id),
        "toAccount": str(target.id),
        "amount": "1.00",
        "idempotencyKey": "across-the-restart",
    }
    with listening_socket() as probe:
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}/api"
    server = serve(server_name, port, env, (tmp_path / "server.log").open("w"))
    try:
        assert call(f"{base}/accounts", token)[0] == 200
        assert terminate_other_backends() >= 1
        failed = call(f"{base}/transactions", token, transfer)
        retried = call(f"{base}/transactions", token, transfer)
        after = call(f"{base}/accounts", token)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert failed[0] == 503 and failed[1]["code"] == "service_unavailable"
    assert retried[0] == 201
    assert after[0] == 200
    source.refresh_from_db()
    assert source.balance == 9_00

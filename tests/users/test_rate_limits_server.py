"""The rate-limit counters are shared by the worker processes of a real gunicorn: a burst that
two workers serve between them gets exactly the limit through, with the counters in the database
and in Redis."""

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.conf import settings

from accounts.models import Account
from tests.manage_subprocess import database_url
from tests.users.test_rate_limits import REDIS_URL
from users.services import token_issue

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 10
# The port range this project's test servers may use.
PORTS = range(8500, 8550)


def listening_socket() -> socket.socket:
    for port in PORTS:
        try:
            return socket.create_server(("127.0.0.1", port))
        except OSError:
            continue
    raise RuntimeError(f"no free port in {PORTS}")


def post(url: str, token: str) -> int:
    request = urllib.request.Request(
        url,
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("counters", ["database", "redis"])
def test_two_workers_share_the_counters(counters, user, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "true",
        "RATE_LIMIT_WRITES": f"{LIMIT}/day",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("TEST_DATABASE_NAME", None)
    env.pop("REDIS_URL", None)
    if counters == "redis":
        env["REDIS_URL"] = REDIS_URL
        redis.Redis.from_url(REDIS_URL).flushdb()
    token = token_issue(user=user)
    access_log = tmp_path / "access.log"
    # gunicorn inherits a socket that already listens, so requests queue until it is ready.
    with listening_socket() as listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/api/accounts"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bankledger.wsgi",
                "--bind",
                f"fd://{listener.fileno()}",
                "--workers",
                "2",
                # The app loaded before the fork: both workers accept from the start, so a burst
                # that one worker could serve alone while the other still imports is split.
                "--preload",
                "--access-logfile",
                str(access_log),
                "--access-logformat",
                "%(p)s %(s)s",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            pass_fds=[listener.fileno()],
        )
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                statuses = list(pool.map(lambda _: post(url, token), range(3 * LIMIT)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert Counter(statuses) == {201: LIMIT, 429: 2 * LIMIT}
    assert Account.objects.filter(user=user).count() == LIMIT
    workers = {line.split()[0] for line in access_log.read_text().splitlines()}
    assert len(workers) == 2, "both workers must have served part of the burst"

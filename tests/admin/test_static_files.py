"""The admin's CSS and JS are served in production: `collectstatic`, then gunicorn with DEBUG off
and whitenoise serving the collected, compressed files."""

import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

PRODUCTION_ENV = {
    "DEBUG": "false",
    "JWT_SECRET": "a-production-like-secret-of-at-least-32-bytes",
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "127.0.0.1",
}


def _get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, dict(response.headers), response.read()


@pytest.fixture
def production_env(tmp_path) -> dict:
    env = {
        **os.environ,
        **PRODUCTION_ENV,
        "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("TEST_DATABASE_NAME", None)
    return env


def test_admin_static_files_are_served_by_gunicorn_with_debug_off(production_env, tmp_path):
    base = Path(settings.BASE_DIR)
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=base,
        env=production_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert collect.returncode == 0, collect.stderr
    assert (tmp_path / "static" / "admin" / "css" / "base.css").is_file()

    # Gunicorn inherits a socket that already listens, so requests queue until it is ready.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bankledger.wsgi",
                "--bind",
                f"fd://{listener.fileno()}",
                "--workers",
                "1",
            ],
            cwd=base,
            env=production_env,
            pass_fds=[listener.fileno()],
        )
        try:
            status, _, page = _get(f"http://127.0.0.1:{port}/admin/login/")
            assert status == 200
            css_path = re.search(rb'href="(/static/admin/css/base\.css)"', page).group(1)
            status, headers, body = _get(
                f"http://127.0.0.1:{port}{css_path.decode()}", **{"Accept-Encoding": "gzip"}
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert headers.get("Content-Encoding") == "gzip"
    assert "max-age" in headers.get("Cache-Control", "")
    assert body

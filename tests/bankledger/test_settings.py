"""Production settings: refuse to start without a strong JWT_SECRET; check --deploy is clean."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRONG = "9f2c71e4a8d35b60c1e7f94a2d8b3c5e07a61f9d"


def _run(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "JWT_SECRET"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_jwt_secret():
    result = _run("check", DEBUG="false")
    assert result.returncode != 0
    assert "JWT_SECRET must be set" in result.stderr


def test_production_refuses_a_short_jwt_secret():
    result = _run("check", DEBUG="false", JWT_SECRET="short")
    assert result.returncode != 0
    assert "at least 32 bytes" in result.stderr


def test_check_deploy_reports_nothing_under_production_settings():
    result = _run("check", "--deploy", "--fail-level", "WARNING", DEBUG="false", JWT_SECRET=STRONG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


_REPLICA_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.REPLICA_DATABASES, s.DATABASE_ROUTERS, "
    "'bankledger.core.replicas.ReplicaPinMiddleware' in s.MIDDLEWARE, "
    "[s.DATABASES[a].get('TEST', {}).get('MIRROR') for a in s.REPLICA_DATABASES])"
)


def test_no_replica_configured_installs_no_router_and_no_middleware():
    result = _run(
        "shell", "--no-imports", "-c", _REPLICA_SETTINGS, DEBUG="true", DATABASE_REPLICA_URLS=""
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "[]", "False", "[]"]


def test_replica_urls_add_aliases_mirrored_in_tests_the_router_and_the_pin_middleware():
    urls = "postgres://u@127.0.0.1:5433/db,postgres://u@127.0.0.1:5434/db"
    result = _run(
        "shell", "--no-imports", "-c", _REPLICA_SETTINGS, DEBUG="true", DATABASE_REPLICA_URLS=urls
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "['replica1', 'replica2'] ['bankledger.core.replicas.ReplicaRouter'] True "
        "['default', 'default']"
    )

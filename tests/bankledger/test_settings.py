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

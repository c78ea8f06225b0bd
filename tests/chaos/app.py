"""The app as it runs in production (gunicorn, DEBUG off), started for a fault-injection run or
a test on its own loopback port against its own database."""

import base64
import contextlib
import glob
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.chaos.postgres import wait_until

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def production_env(database_url: str, **extra: str) -> dict:
    """The environment for manage.py and gunicorn: production settings, plain HTTP on loopback,
    a fresh JWT secret and ledger signing key, no Redis (the cache lives in the database under
    test)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "LEDGER_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "bankledger.settings",
        "LOG_LEVEL": "WARNING",
        # Rate limits stay at their defaults for transfers and reads (clients retry a 429);
        # every client registers from this one address, as behind a sign-up backend.
        "RATE_LIMIT_REGISTER": "1000/hour",
        **extra,
    }
    env.pop("REDIS_URL", None)
    return env


class App:
    def __init__(self, env: dict, port: int, workers: int, logfile: Path):
        self.env, self.port, self.workers, self.logfile = env, port, workers, logfile
        self.process: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{port}"

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if result.returncode:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
            )
        return result.stdout

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "bankledger.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                # The default control socket is one path per OS user: shared with any other
                # gunicorn running beside this one.
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.logfile.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def worker_pids(self) -> list[int]:
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    children.append(int(Path(stat).parent.name))
        return children

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log_tail(self, size: int = 3000) -> str:
        return self.logfile.read_text(errors="replace")[-size:] if self.logfile.exists() else ""


def wait_for_http(base: str, timeout: float) -> bool:
    def answers() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{base}/api/accounts", timeout=5)
            return True
        return False

    return wait_until(answers, timeout)

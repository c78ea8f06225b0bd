"""Real servers on loopback for the email tests: an aiosmtpd SMTP server (optionally with
STARTTLS and Gmail's XOAUTH2 mechanism), an OAuth2 token endpoint, a self-signed certificate,
and `manage.py db_worker` run as a real process against the test database."""

import datetime
import email
import email.policy
import ipaddress
import json
import os
import socket
import subprocess
import sys
import threading
import time
from base64 import b64decode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import connection


def free_port() -> int:
    """A loopback port nothing listens on now, chosen once per test process, so two test runs
    on one machine never share a mail server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SMTP_PORT = free_port()
# Email settings that send through the plain SmtpServer below.
SMTP_SETTINGS = {"EMAIL_BACKEND": "smtp", "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": SMTP_PORT}
TLS_SMTP_PORT = free_port()
TOKEN_PORT = free_port()
ROOT = Path(__file__).resolve().parent.parent


class Handler:
    """Keeps every message it accepts. With `xoauth2`, offers Gmail's XOAUTH2 mechanism and
    accepts only that user with a token the token endpoint issued."""

    def __init__(self, xoauth2=None):
        self.messages = []
        self.auths = []
        self._xoauth2 = xoauth2
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    async def auth_XOAUTH2(self, server, args):
        fields = dict(
            part.split("=", 1) for part in b64decode(args[1]).decode().split("\x01") if part
        )
        accepted = fields.get("user") == self._xoauth2["user"] and fields.get("auth") in {
            f"Bearer {issued}" for issued in self._xoauth2["tokens"]
        }
        self.auths.append((fields.get("user"), fields.get("auth"), accepted))
        if accepted:
            return AuthResult(success=True)
        # What Gmail does: a 334 with the error, then 535 after the client's empty reply.
        await server.challenge_auth(json.dumps({"status": "401"}))
        return AuthResult(success=False, handled=False)


class SmtpServer:
    """start()/stop() may be called again: the server comes back on the same port."""

    def __init__(self, port=SMTP_PORT, **controller_kwargs):
        self.port = port
        self.handler = Handler(controller_kwargs.pop("xoauth2", None))
        self._kwargs = controller_kwargs
        self._controller = None

    @property
    def messages(self):
        return list(self.handler.messages)

    def start(self):
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **self._kwargs
        )
        self._controller.start()
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class JsonReplyHandler(BaseHTTPRequestHandler):
    """A quiet HTTP handler that answers JSON, for the local stand-ins of Google's endpoints."""

    def _reply(self, status, body):
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


class TokenEndpoint:
    """An OAuth2 token endpoint (RFC 6749 section 6, refresh_token grant) for one client."""

    def __init__(
        self, *, client_id, client_secret, refresh_token, expires_in=3599, port=TOKEN_PORT
    ):
        self.expected = {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
        }
        self.issued = []
        self.url = f"http://127.0.0.1:{port}/token"
        endpoint = self

        class RequestHandler(JsonReplyHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path != "/token" or any(
                    form.get(k) != v for k, v in endpoint.expected.items()
                ):
                    return self._reply(400, {"error": "invalid_grant"})
                token = f"ya29.test-token-{len(endpoint.issued) + 1}"
                endpoint.issued.append(token)
                return self._reply(
                    200,
                    {
                        "access_token": token,
                        "expires_in": expires_in,
                        "token_type": "Bearer",
                        "scope": "https://mail.google.com/",
                    },
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", port), RequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


def database_url() -> str:
    """The URL of the database this test runs on (the test database, not the configured one)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_environment(**email_env) -> dict:
    """The environment of a worker process: the test database and the given email settings
    instead of whatever the developer's `.env` says."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "ANYMAIL_"))}
    env.update(
        DEBUG="true",
        DATABASE_URL=database_url(),
        JWT_SECRET=settings.JWT_SECRET,
        CLIENT_ID="",
        CLIENT_SECRET="",
        REFRESH_TOKEN="",
    )
    env.update({k: str(v) for k, v in email_env.items()})
    return env


def _manage(*args):
    return [sys.executable, str(ROOT / "manage.py"), *args]


def run_events_once(**env) -> subprocess.CompletedProcess:
    """`manage.py events_worker --once`: number the committed events and feed their consumers
    (which queue the email tasks), send the webhook deliveries that are due, then exit."""
    return subprocess.run(
        _manage("events_worker", "--once"),
        env=worker_environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def run_worker_batch(**email_env) -> subprocess.CompletedProcess:
    """The events worker once, then `manage.py db_worker --batch`: run every task that is
    due, then exit."""
    run_events_once(**email_env)
    return subprocess.run(
        _manage("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0"),
        env=worker_environment(**email_env),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


class Worker:
    """`manage.py db_worker` and `manage.py events_worker` running in the background until
    stopped (SIGTERM)."""

    def __init__(self, **email_env):
        commands = [
            _manage("db_worker", "--no-startup-delay", "--no-reload", "--interval", "0.1"),
            _manage("events_worker", "--interval", "0.05"),
        ]
        self._processes = [
            subprocess.Popen(
                command,
                env=worker_environment(**email_env),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for command in commands
        ]

    def stop(self):
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.wait(timeout=30)


def wait_until(condition, *, deadline=60.0, message="condition"):
    """Poll `condition` until it holds; fail after `deadline` seconds (a bound, not a timing
    assertion: on a healthy machine it holds in well under a second)."""
    stop = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > stop:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.05)


def run_manage(*args, **email_env) -> subprocess.CompletedProcess:
    return subprocess.run(
        _manage(*args),
        env=worker_environment(**email_env),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

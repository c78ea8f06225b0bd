"""`manage.py gmail_authorize` runs google-auth-oauthlib's installed-app flow for real: a
"browser" (the BROWSER variable) follows the consent URL to a local authorization server over
HTTPS, which redirects back to the command's own local server with a code; the command
exchanges the code at the token endpoint and prints the refresh token."""

import hashlib
import json
import socket
import ssl
import subprocess
import sys
import threading
from base64 import b64decode, urlsafe_b64encode
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from tests.mailserver import ROOT, JsonReplyHandler, free_port, self_signed_certificate

GOOGLE_PORT = free_port()


def redirect_port():
    """A port of the range that can be bound now: the command's redirect server does not reuse
    addresses, so the port of a run a moment ago may still be in TIME_WAIT."""
    for port in range(8030, 8050):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in 8030-8049")


CLIENT_ID = "1234-desktop.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-desktop-secret"


class FakeGoogle(JsonReplyHandler):
    """The consent screen (always allowed) and the authorization_code grant of the token
    endpoint, checking what a real one checks."""

    codes = {}

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path != "/auth" or query.get("client_id") != CLIENT_ID:
            return self._reply(400, {"error": "invalid_client"})
        if (
            query.get("scope") != "https://mail.google.com/"
            or query.get("access_type") != "offline"
        ):
            return self._reply(400, {"error": "invalid_scope"})
        self.codes["4/consented"] = (query["redirect_uri"], query["code_challenge"])
        back = urlencode({"code": "4/consented", "state": query["state"], "scope": query["scope"]})
        self.send_response(302)
        self.send_header("Location", f"{query['redirect_uri']}?{back}")
        self.end_headers()

    def do_POST(self):
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        form = {k: v[0] for k, v in form.items()}
        # RFC 6749 2.3.1: the client authenticates with HTTP Basic or in the body.
        basic = self.headers.get("Authorization", "").removeprefix("Basic ")
        client = b64decode(basic).decode() if basic else ""
        verifier = form.get("code_verifier", "").encode()
        challenge = urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
        valid = (
            form.get("grant_type") == "authorization_code"
            and client in (f"{CLIENT_ID}:{CLIENT_SECRET}", "")
            and (client or form.get("client_secret") == CLIENT_SECRET)
            and self.codes.get(form.get("code")) == (form.get("redirect_uri"), challenge)
        )
        if not valid:
            return self._reply(400, {"error": "invalid_grant"})
        return self._reply(
            200,
            {
                "access_token": "ya29.consented",
                "refresh_token": "1//consented-refresh-token",
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": "https://mail.google.com/",
            },
        )


@pytest.fixture
def certificate(tmp_path):
    return self_signed_certificate(tmp_path)


@pytest.fixture
def google(certificate):
    server = ThreadingHTTPServer(("127.0.0.1", GOOGLE_PORT), FakeGoogle)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://localhost:{GOOGLE_PORT}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser(tmp_path):
    """Opens the URL in the background, as a browser does, and follows the redirects."""
    script = tmp_path / "browser"
    script.write_text(
        f"#!/bin/sh\n{sys.executable} -c "
        "'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=30)' "
        '"$1" >/dev/null 2>&1 &\n'
    )
    script.chmod(0o755)
    return script


def test_prints_the_refresh_token_from_the_consent_flow(tmp_path, certificate, google, browser):
    secrets = tmp_path / "client_secret.json"
    secrets.write_text(
        json.dumps(
            {
                "installed": {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "auth_uri": f"{google}/auth",
                    "token_uri": f"{google}/token",
                    "redirect_uris": ["http://localhost"],
                }
            }
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "gmail_authorize",
            "--client-secrets",
            str(secrets),
            "--port",
            str(redirect_port()),
        ],
        env={
            "PATH": "/usr/bin:/bin",
            "DEBUG": "true",
            "BROWSER": str(browser),
            "SSL_CERT_FILE": str(certificate[0]),
            "REQUESTS_CA_BUNDLE": str(certificate[0]),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "REFRESH_TOKEN=1//consented-refresh-token" in result.stdout.splitlines()
    assert f"CLIENT_ID={CLIENT_ID}" in result.stdout.splitlines()


def test_an_unreadable_secrets_file_is_a_command_error(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "gmail_authorize", "--client-secrets", "nope"],
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Cannot read the client secrets file" in result.stderr

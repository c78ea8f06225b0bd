"""The Gmail backend against real servers on loopback: an OAuth2 token endpoint, and an SMTP
server that requires STARTTLS (a self-signed certificate made here and trusted through
SSL_CERT_FILE) and accepts XOAUTH2 only for the right user with an issued access token."""

import smtplib
import ssl
import uuid

import pytest
from django.core.mail import send_mail
from google.auth.exceptions import RefreshError

from bankledger.mail.models import Email
from tests.mailserver import (
    TLS_SMTP_PORT,
    SmtpServer,
    TokenEndpoint,
    run_worker_batch,
    self_signed_certificate,
)

USER = "ledger.sender@gmail.example"
CLIENT_ID = "1234-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-test-secret"


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


@pytest.fixture
def refresh_token():
    # A new one per test: access tokens are cached per configuration for the process's life.
    return f"1//refresh-{uuid.uuid4()}"


@pytest.fixture
def token_endpoint(request, refresh_token):
    expires_in = getattr(request, "param", 3599)
    with TokenEndpoint(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=refresh_token,
        expires_in=expires_in,
    ) as endpoint:
        yield endpoint


@pytest.fixture
def gmail_smtp(certificate, token_endpoint):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    server = SmtpServer(
        TLS_SMTP_PORT,
        tls_context=context,
        require_starttls=True,
        xoauth2={"user": USER, "tokens": token_endpoint.issued},
    ).start()
    yield server
    server.stop()


@pytest.fixture
def gmail_settings(settings, token_endpoint, refresh_token):
    settings.EMAIL_BACKEND = "bankledger.mail.gmail.GmailOAuth2Backend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = (
        "localhost",
        TLS_SMTP_PORT,
        True,
    )
    settings.EMAIL_USER = USER
    settings.GMAIL_CLIENT_ID, settings.GMAIL_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    settings.GMAIL_REFRESH_TOKEN = refresh_token
    settings.GMAIL_TOKEN_URI = token_endpoint.url
    return settings


def send(n):
    # send_mail opens a new connection, and a new backend, every time.
    return send_mail(f"Message {n}", "body", None, ["someone@example.com"])


def test_sends_after_starttls_with_xoauth2_and_refreshes_the_token_once(
    gmail_smtp, token_endpoint, gmail_settings
):
    assert send(1) == 1
    assert send(2) == 1

    assert [m["Subject"] for m in gmail_smtp.messages] == ["Message 1", "Message 2"]
    assert token_endpoint.issued == ["ya29.test-token-1"]
    assert gmail_smtp.handler.auths == [(USER, "Bearer ya29.test-token-1", True)] * 2


@pytest.mark.parametrize("token_endpoint", [60], indirect=True)
def test_an_expiring_token_is_refreshed_again(gmail_smtp, token_endpoint, gmail_settings):
    # google-auth treats a token as expired a few minutes before its end: 60 s is too short.
    send(1)
    send(2)

    assert token_endpoint.issued == ["ya29.test-token-1", "ya29.test-token-2"]
    assert [auth[1] for auth in gmail_smtp.handler.auths] == [
        "Bearer ya29.test-token-1",
        "Bearer ya29.test-token-2",
    ]


def test_the_server_refuses_another_user(gmail_smtp, gmail_settings):
    gmail_settings.EMAIL_USER = "someone.else@gmail.example"

    with pytest.raises(smtplib.SMTPAuthenticationError):
        send(1)
    assert gmail_smtp.messages == []


def test_a_refused_refresh_token_sends_nothing(gmail_smtp, token_endpoint, gmail_settings):
    gmail_settings.GMAIL_REFRESH_TOKEN = "1//revoked"

    with pytest.raises(RefreshError):
        send(1)
    assert token_endpoint.issued == []
    assert gmail_smtp.messages == [] and gmail_smtp.handler.auths == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_through_gmail_with_the_original_service_variables(
    gmail_smtp, token_endpoint, refresh_token, certificate, make_user, make_account, fund
):
    alice, bob = make_user(), make_user()
    fund(make_account(alice), "5.00")
    make_account(bob)

    # No EMAIL_BACKEND: the four variables of the original service choose Gmail.
    run_worker_batch(
        EMAIL_USER=USER,
        CLIENT_ID=CLIENT_ID,
        CLIENT_SECRET=CLIENT_SECRET,
        REFRESH_TOKEN=refresh_token,
        GMAIL_TOKEN_URI=token_endpoint.url,
        EMAIL_HOST="localhost",
        EMAIL_PORT=TLS_SMTP_PORT,
        SSL_CERT_FILE=certificate[0],
    )

    assert sorted(m["To"] for m in gmail_smtp.messages) == sorted(
        [alice.email, alice.email, bob.email]
    )
    assert all(m["From"] == f"bankledger <{USER}>" for m in gmail_smtp.messages)
    assert token_endpoint.issued == ["ya29.test-token-1"]
    assert set(Email.objects.values_list("status", flat=True)) == {Email.Status.SENT}

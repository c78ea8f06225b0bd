"""The environment chooses the email backend (bankledger/settings/email.py), read by a fresh
process as the server and the worker would."""

import json
import os
import subprocess
import sys

import pytest

from tests.mailserver import ROOT

GMAIL = {
    "EMAIL_USER": "ledger@gmail.example",
    "CLIENT_ID": "id.apps.googleusercontent.com",
    "CLIENT_SECRET": "secret",
    "REFRESH_TOKEN": "1//refresh",
}
PRINT = (
    "from django.conf import settings as s; import json; print(json.dumps({k: getattr(s, k, None) "
    "for k in ['EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_USE_TLS', "
    "'DEFAULT_FROM_EMAIL', 'ANYMAIL']}))"
)


def email_settings(**env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EMAIL_", "ANYMAIL_")) and k not in GMAIL
    }
    # Empty values hide whatever a developer's .env says.
    clean |= {name: "" for name in GMAIL} | {"DEBUG": "true"} | env
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", PRINT],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout, result.stderr


def chosen(**env):
    code, stdout, stderr = email_settings(**env)
    assert code == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1])


def test_console_is_the_default():
    assert chosen()["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_the_original_services_four_variables_choose_gmail():
    got = chosen(**GMAIL)
    assert got["EMAIL_BACKEND"] == "bankledger.mail.gmail.GmailOAuth2Backend"
    assert (got["EMAIL_HOST"], got["EMAIL_PORT"], got["EMAIL_USE_TLS"]) == (
        "smtp.gmail.com",
        587,
        True,
    )
    assert got["DEFAULT_FROM_EMAIL"] == "bankledger <ledger@gmail.example>"


def test_smtp_takes_the_usual_variables():
    got = chosen(
        EMAIL_BACKEND="smtp", EMAIL_HOST="mail.example.com", EMAIL_PORT="2525", EMAIL_USE_TLS="1"
    )
    assert got["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (got["EMAIL_HOST"], got["EMAIL_PORT"], got["EMAIL_USE_TLS"]) == (
        "mail.example.com",
        2525,
        True,
    )


@pytest.mark.parametrize(
    ("provider", "setting"),
    [("mailgun", "MAILGUN_API_KEY"), ("postmark", "POSTMARK_SERVER_TOKEN")],
)
def test_an_anymail_provider_by_name_and_api_key(provider, setting):
    got = chosen(
        EMAIL_BACKEND=provider,
        ANYMAIL_API_KEY="key-123",
        ANYMAIL_MAILGUN_SENDER_DOMAIN="mg.example",
    )
    assert got["EMAIL_BACKEND"] == f"anymail.backends.{provider}.EmailBackend"
    assert got["ANYMAIL"] == {setting: "key-123", "MAILGUN_SENDER_DOMAIN": "mg.example"}


def test_an_unknown_backend_name_is_refused_at_startup():
    code, _, stderr = email_settings(EMAIL_BACKEND="carrier-pigeon")
    assert code != 0 and "EMAIL_BACKEND='carrier-pigeon'" in stderr

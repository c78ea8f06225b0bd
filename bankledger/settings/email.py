"""Outgoing email, chosen by `EMAIL_BACKEND`: `console` (the default), `smtp`, `gmail` (OAuth2
with the original service's `EMAIL_USER`, `CLIENT_ID`, `CLIENT_SECRET`, `REFRESH_TOKEN`; the
default when all four are set), the name of a django-anymail provider (`mailgun`, `postmark`,
`sendgrid`, ...) with `ANYMAIL_API_KEY`, or a dotted path to any email backend."""

import importlib.util
import os

from django.core.exceptions import ImproperlyConfigured

from .environment import env

EMAIL_USER = env("EMAIL_USER", default="")
GMAIL_CLIENT_ID = env("CLIENT_ID", default="")
GMAIL_CLIENT_SECRET = env("CLIENT_SECRET", default="")
GMAIL_REFRESH_TOKEN = env("REFRESH_TOKEN", default="")
GMAIL_TOKEN_URI = env("GMAIL_TOKEN_URI", default="https://oauth2.googleapis.com/token")
_gmail_configured = all([EMAIL_USER, GMAIL_CLIENT_ID, GMAIL_CLIENT_SECRET, GMAIL_REFRESH_TOKEN])

_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "gmail": "bankledger.mail.gmail.GmailOAuth2Backend",
}
# The setting that holds each anymail provider's credential, where it is not `API_KEY`.
_ANYMAIL_CREDENTIAL = {
    "mailersend": "API_TOKEN",
    "mailtrap": "API_TOKEN",
    "postmark": "SERVER_TOKEN",
    "scaleway": "SECRET_KEY",
}

_choice = env("EMAIL_BACKEND", default="gmail" if _gmail_configured else "console")
_gmail = _choice == "gmail"

if "." in _choice:
    EMAIL_BACKEND = _choice
elif _choice in _BACKENDS:
    EMAIL_BACKEND = _BACKENDS[_choice]
elif importlib.util.find_spec(f"anymail.backends.{_choice}"):
    EMAIL_BACKEND = f"anymail.backends.{_choice}.EmailBackend"
    # Any other provider setting comes as ANYMAIL_<PROVIDER>_<NAME>, e.g.
    # ANYMAIL_MAILGUN_SENDER_DOMAIN or ANYMAIL_MAILJET_SECRET_KEY.
    ANYMAIL = {
        name.removeprefix("ANYMAIL_"): value
        for name, value in os.environ.items()
        if name.startswith("ANYMAIL_") and name != "ANYMAIL_API_KEY"
    }
    _credential = _ANYMAIL_CREDENTIAL.get(_choice, "API_KEY")
    if env("ANYMAIL_API_KEY", default=""):
        ANYMAIL[f"{_choice.upper()}_{_credential}"] = env("ANYMAIL_API_KEY")
else:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND={_choice!r}: use console, smtp, gmail, the name of a "
        "django-anymail provider or a dotted path to an email backend."
    )

# SMTP, and Gmail's SMTP server (which these override).
EMAIL_HOST = env("EMAIL_HOST", default="smtp.gmail.com" if _gmail else "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587 if _gmail else 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=_gmail)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
# Django's default is to wait forever for a mail server; a worker must not hang on one.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL",
    default=f"bankledger <{EMAIL_USER}>" if EMAIL_USER else "bankledger <noreply@localhost>",
)

# A failed send is tried again after EMAIL_RETRY_BACKOFF seconds, then twice as long each
# time, until EMAIL_MAX_ATTEMPTS attempts in all; then the email is FAILED (admin, failed_emails).
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=6)
EMAIL_RETRY_BACKOFF = env.float("EMAIL_RETRY_BACKOFF", default=30.0)

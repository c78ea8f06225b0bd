"""Gmail over SMTP with OAuth2 (XOAUTH2), as the original service sent its email.

Hand-written because django-anymail has no Gmail provider and Django's SMTP backend only does
password login, which Gmail refuses for most accounts. google-auth refreshes the access token;
this module only caches it and adds the XOAUTH2 step after Django's connect and STARTTLS."""

import threading

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials

GMAIL_SCOPE = "https://mail.google.com/"

_credentials: dict[tuple[str, ...], Credentials] = {}
_lock = threading.Lock()


def gmail_access_token() -> str:
    """A valid access token for the configured client and refresh token. One `Credentials` per
    configuration is kept for the life of the process, so the token endpoint is asked again only
    when the token has expired (google-auth refreshes a little before the expiry)."""
    key = (
        settings.GMAIL_TOKEN_URI,
        settings.GMAIL_CLIENT_ID,
        settings.GMAIL_CLIENT_SECRET,
        settings.GMAIL_REFRESH_TOKEN,
    )
    with _lock:
        credentials = _credentials.get(key)
        if credentials is None:
            credentials = _credentials[key] = Credentials(
                token=None,
                refresh_token=settings.GMAIL_REFRESH_TOKEN,
                token_uri=settings.GMAIL_TOKEN_URI,
                client_id=settings.GMAIL_CLIENT_ID,
                client_secret=settings.GMAIL_CLIENT_SECRET,
                scopes=[GMAIL_SCOPE],
            )
        if not credentials.valid:
            credentials.refresh(Request())
        return credentials.token


def xoauth2_response(user: str, token: str) -> str:
    """The initial client response of Google's XOAUTH2 SASL mechanism."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


class GmailOAuth2Backend(EmailBackend):
    """Django's SMTP backend (smtp.gmail.com:587 with STARTTLS unless EMAIL_HOST/EMAIL_PORT say
    otherwise) that logs in as EMAIL_USER with an OAuth2 access token instead of a password."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = settings.EMAIL_USER
        # XOAUTH2 replaces the password login the parent class would otherwise attempt.
        self.username = self.password = ""

    def open(self):
        if self.connection:
            return False
        try:
            token = gmail_access_token()
            if not super().open():
                return False
            self.connection.ehlo_or_helo_if_needed()  # STARTTLS forgot the first EHLO
            # The server answers a refused token with a 334 challenge; the reply is empty.
            self.connection.auth(
                "XOAUTH2",
                lambda challenge=None: (
                    xoauth2_response(self.user, token) if challenge is None else ""
                ),
            )
        except Exception:
            self.close()
            if not self.fail_silently:
                raise
            return False
        return True

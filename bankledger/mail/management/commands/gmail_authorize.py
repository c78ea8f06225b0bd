from django.core.management.base import BaseCommand, CommandError
from google_auth_oauthlib.flow import InstalledAppFlow

from bankledger.mail.gmail import GMAIL_SCOPE


class Command(BaseCommand):
    help = (
        "Run Google's installed-app consent flow for sending as a Gmail account and print the "
        "refresh token to put in REFRESH_TOKEN (with CLIENT_ID and CLIENT_SECRET from the file)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--client-secrets",
            required=True,
            help="the OAuth client JSON downloaded from Google Cloud (application type Desktop)",
        )
        parser.add_argument(
            "--port", type=int, default=0, help="local port for Google's redirect (0: any free one)"
        )
        parser.add_argument(
            "--no-browser",
            action="store_true",
            help="only print the consent URL instead of opening a browser",
        )

    def handle(self, *, client_secrets: str, port: int, no_browser: bool, **options):
        try:
            flow = InstalledAppFlow.from_client_secrets_file(client_secrets, scopes=[GMAIL_SCOPE])
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read the client secrets file: {exc}") from exc
        credentials = flow.run_local_server(
            port=port,
            open_browser=not no_browser,
            authorization_prompt_message="Open this URL to allow sending as your Gmail "
            "account:\n{url}",
            # Offline access with a fresh consent makes Google return a refresh token.
            access_type="offline",
            prompt="consent",
        )
        if not credentials.refresh_token:
            raise CommandError(
                "Google returned no refresh token; revoke the app's access and retry."
            )
        self.stdout.write(f"CLIENT_ID={credentials.client_id}")
        self.stdout.write(f"REFRESH_TOKEN={credentials.refresh_token}")

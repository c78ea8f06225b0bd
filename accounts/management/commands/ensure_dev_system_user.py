import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services import system_user_create
from users.models import User
from users.services import user_set_password

DEV_EMAIL = "system@bankledger.local"


def dev_password(path: Path) -> tuple[str, bool]:
    """This checkout's development password, kept in `path` (git-ignored, readable by its owner
    only); made at random the first time. Returns it and whether it was made just now."""
    if path.exists():
        return path.read_text().strip(), False
    password = secrets.token_urlsafe(18)
    path.touch(mode=0o600)
    path.write_text(password + "\n")
    return password, True


class Command(BaseCommand):
    help = (
        "Development only (DEBUG on): make sure a system user exists with this checkout's random "
        "password (made once, kept in DEV_SYSTEM_USER_FILE) and say how to log in."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Refusing to create a development system user with DEBUG off.")
        path = Path(settings.DEV_SYSTEM_USER_FILE)
        password, made = dev_password(path)
        user = User.objects.filter(email=DEV_EMAIL).first()
        if user is None:
            system_user_create(email=DEV_EMAIL, password=password, name="Development System")
        elif not user.check_password(password):
            # A database from before this checkout's password (or with the old published one).
            user_set_password(user=user, password=password)
        if made:
            who = (
                f"{DEV_EMAIL} / {password}\n  (this checkout's random password, shown this once; "
                f"kept in {path})"
            )
        else:
            who = f"{DEV_EMAIL} (password in {path})"
        self.stdout.write(
            f"Development system user: {who}\n  Admin: http://localhost:{settings.PORT}/admin/"
        )

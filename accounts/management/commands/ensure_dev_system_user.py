from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services import system_user_create
from users.models import User

DEV_EMAIL = "system@bankledger.local"
DEV_PASSWORD = "Seed-Funds-Locally-2000"


class Command(BaseCommand):
    help = "Development only (DEBUG on): make sure a system user exists and say how to log in."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Refusing to create a development system user with DEBUG off.")
        if not User.objects.filter(email=DEV_EMAIL).exists():
            system_user_create(email=DEV_EMAIL, password=DEV_PASSWORD, name="Development System")
        self.stdout.write(
            f"Development system user: {DEV_EMAIL} / {DEV_PASSWORD}\n"
            f"  API:   curl -X POST localhost:{settings.PORT}/api/auth/login "
            f"-H 'Content-Type: application/json' "
            f'-d \'{{"email":"{DEV_EMAIL}","password":"{DEV_PASSWORD}"}}\'\n'
            f"  Admin: http://localhost:{settings.PORT}/admin/"
        )

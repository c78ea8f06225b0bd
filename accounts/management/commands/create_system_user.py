from django.core.management.base import BaseCommand, CommandError

from accounts.services import system_user_create
from bankledger.core.errors import ApplicationError, error_line


class Command(BaseCommand):
    help = "Create a system user (may seed funds, freeze, close, reverse) with its funding account."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="System")

    def handle(self, *args, email, password, name, **options):
        try:
            user = system_user_create(email=email, password=password, name=name)
        except ApplicationError as exc:
            raise CommandError(error_line(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created system user {user.email} ({user.id})."))

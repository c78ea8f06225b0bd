from django.core.management.base import BaseCommand, CommandError

from accounts.services import system_user_create
from bankledger.core.errors import ApplicationError


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
            errors = exc.extra.get("errors", {})
            details = " ".join(msg for msgs in errors.values() for msg in msgs)
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        self.stdout.write(self.style.SUCCESS(f"Created system user {user.email} ({user.id})."))

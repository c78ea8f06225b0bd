from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from accounts.services import account_status_set
from bankledger.core.errors import ApplicationError, error_line


class Command(BaseCommand):
    help = (
        "Set an account's status (freeze, unfreeze or close it) through the account services. "
        "Recorded in the account's status history with no actor (an operator) and the reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, metavar="ID", help="the account's id")
        parser.add_argument("--status", required=True, choices=Account.Status.values)
        parser.add_argument("--reason", default="", help="why, kept in the status history")

    def handle(self, *args, account, status, reason, **options):
        try:
            changed = account_status_set(
                account_id=account, status=status, actor=None, reason=reason
            )
        except ApplicationError as refusal:
            raise CommandError(f"Refused: {error_line(refusal)}") from refusal
        self.stdout.write(self.style.SUCCESS(f"Account {changed.pk} is {changed.status}."))

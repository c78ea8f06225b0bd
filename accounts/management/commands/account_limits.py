from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from accounts.services import UNCHANGED, account_limits_set, limits_render
from bankledger.core.errors import ApplicationError, error_line


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise CommandError(f"Not an amount: {text!r}") from exc


class Command(BaseCommand):
    help = (
        "Set a user account's overdraft and daily outflow limits (major units) through the "
        "account services. Recorded in the account's limit history with no actor (an operator) "
        "and the reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, metavar="ID", help="the account's id")
        parser.add_argument("--overdraft", metavar="AMOUNT", help="the overdraft limit")
        parser.add_argument(
            "--daily-outflow", metavar="AMOUNT", help='the daily outflow limit, or "none"'
        )
        parser.add_argument("--reason", default="", help="why, kept in the limit history")

    def handle(self, *args, account, overdraft, daily_outflow, reason, **options):
        if daily_outflow is None:
            daily = UNCHANGED
        else:
            daily = None if daily_outflow == "none" else _amount(daily_outflow)
        try:
            changed = account_limits_set(
                account_id=account,
                actor=None,
                overdraft_limit=None if overdraft is None else _amount(overdraft),
                daily_outflow_limit=daily,
                reason=reason,
            )
        except ApplicationError as refusal:
            raise CommandError(f"Refused: {error_line(refusal)}") from refusal
        limits = limits_render(changed)
        self.stdout.write(
            self.style.SUCCESS(
                f"Account {changed.pk}: overdraft {limits['overdraftLimit']}, daily outflow "
                f"{limits['dailyOutflowLimit'] or 'none'}."
            )
        )

import uuid

from django.core.management.base import BaseCommand, CommandError

from bankledger.core.errors import ApplicationError, error_line
from bankledger.core.money import AMOUNT_FORMAT, format_money, parse_amount
from transactions.services import initial_funds_create
from users.models import User, normalize_email


def _system_user(email: str | None) -> User:
    """The system user named by --as, or the only one there is."""
    users = User.objects.filter(is_system=True, is_active=True)
    if email:
        user = users.filter(email=normalize_email(email)).first()
        if user is None:
            raise CommandError(f"No active system user with email {email!r}.")
        return user
    found = list(users.order_by("email")[:2])
    if len(found) == 1:
        return found[0]
    if not found:
        raise CommandError("There is no system user; create one with create_system_user.")
    raise CommandError("There is more than one system user; say which with --as EMAIL.")


class Command(BaseCommand):
    help = (
        "Seed an account with initial funds from a system user's funding account, through the "
        "same service as POST /api/transactions/system/initial-funds. Idempotent per key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, metavar="ACCOUNT", help="the account's id")
        parser.add_argument(
            "--amount", required=True, help="in the account's major units, e.g. 500 or 500.50"
        )
        parser.add_argument(
            "--key",
            help="idempotency key; run again with the same key to be sure it posted once "
            "(default: a new random key)",
        )
        parser.add_argument(
            "--as",
            dest="as_email",
            metavar="EMAIL",
            help="the system user who posts it (default: the only system user)",
        )

    def handle(self, *args, to, amount, key, as_email, **options):
        parsed = parse_amount(amount)
        if parsed is None:
            raise CommandError(f"--amount must be {AMOUNT_FORMAT}, not {amount!r}.")
        if key is not None and not 0 < len(key) <= 255:
            raise CommandError("--key must be between 1 and 255 characters.")
        key = key or f"cli-{uuid.uuid4()}"
        initiator = _system_user(as_email)
        try:
            result = initial_funds_create(
                initiator=initiator, to_account_id=to, amount=parsed, idempotency_key=key
            )
        except ApplicationError as refusal:
            raise CommandError(f"Refused: {error_line(refusal)}") from refusal
        tx = result.transaction
        posted = format_money(tx.amount, tx.currency)
        if result.replayed:
            self.stdout.write(
                f"Already processed under key {key}: transaction {tx.pk} ({tx.status}), "
                f"{posted} to {tx.to_account_id}."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Posted {posted} to {tx.to_account_id} as {initiator.email}: "
                f"transaction {tx.pk}, key {key}."
            )
        )

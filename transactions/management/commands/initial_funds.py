import csv
import uuid

from django.core.management.base import BaseCommand, CommandError

from bankledger.core.annotations import REFERENCE_MAX_LENGTH
from bankledger.core.errors import ApplicationError, error_line
from bankledger.core.money import AMOUNT_FORMAT, format_money, parse_amount
from transactions.services import BatchItem, initial_funds_batch_create, initial_funds_create
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


# Seeding many accounts is one database transaction; this bounds its size.
MAX_CSV_ROWS = 1000


def _csv_items(path: str) -> list[BatchItem]:
    """Rows of `account,amount[,reference]` under a header naming those columns."""
    try:
        with open(path, newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"Cannot read {path}: {exc}") from exc
    if not rows or not {"account", "amount"} <= set(rows[0]):
        raise CommandError(f"{path} needs a header with account and amount columns, and rows.")
    if len(rows) > MAX_CSV_ROWS:
        raise CommandError(f"{path} has {len(rows)} rows; at most {MAX_CSV_ROWS} per batch.")
    return [_csv_item(number, row) for number, row in enumerate(rows, start=2)]


def _csv_item(line: int, row: dict) -> BatchItem:
    amount = parse_amount((row.get("amount") or "").strip())
    if amount is None:
        raise CommandError(f"Line {line}: the amount must be {AMOUNT_FORMAT}.")
    reference = (row.get("reference") or "").strip() or None
    if reference is not None and not (
        len(reference) <= REFERENCE_MAX_LENGTH and reference.isprintable()
    ):
        raise CommandError(f"Line {line}: a reference has 1-128 printable characters.")
    account = (row.get("account") or "").strip()
    return BatchItem(to_account_id=account, amount=amount, reference=reference)


class Command(BaseCommand):
    help = (
        "Seed an account with initial funds from a system user's funding account, through the "
        "same service as POST /api/transactions/system/initial-funds; or, with --csv, many "
        "accounts as one batch, all or nothing. Idempotent per key."
    )

    def add_arguments(self, parser):
        # Kept to report malformed argument combinations as argparse does (exit status 2).
        self.parser = parser
        parser.add_argument("--to", metavar="ACCOUNT", help="the account's id")
        parser.add_argument("--amount", help="in the account's major units, e.g. 500 or 500.50")
        parser.add_argument(
            "--csv",
            dest="csv_path",
            metavar="FILE",
            help="instead of --to and --amount: a CSV with a header and columns account, "
            f"amount and optionally reference; at most {MAX_CSV_ROWS} rows, posted as one batch",
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

    def handle(self, *args, to, amount, csv_path, key, as_email, **options):
        if csv_path is not None and (to or amount):
            self.parser.error("give either --csv or --to with --amount, not both")
        if key is not None and not 0 < len(key) <= 255:
            raise CommandError("--key must be between 1 and 255 characters.")
        key = key or f"cli-{uuid.uuid4()}"
        if csv_path is not None:
            self._seed_many(_csv_items(csv_path), key, _system_user(as_email))
            return
        if to is None or amount is None:
            self.parser.error("the following arguments are required: --to, --amount (or --csv)")
        parsed = parse_amount(amount)
        if parsed is None:
            raise CommandError(f"--amount must be {AMOUNT_FORMAT}, not {amount!r}.")
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

    def _seed_many(self, items: list[BatchItem], key: str, initiator: User) -> None:
        try:
            result = initial_funds_batch_create(
                initiator=initiator, items=items, idempotency_key=key
            )
        except ApplicationError as refusal:
            where = f" at row {refusal.extra['index'] + 1}" if "index" in refusal.extra else ""
            raise CommandError(f"Refused{where}: {error_line(refusal)}") from refusal
        done = "Already processed" if result.replayed else f"Posted as {initiator.email}"
        self.stdout.write(
            self.style.SUCCESS(
                f"{done}: batch {result.batch.pk} of {result.batch.size} initial funds, key {key}."
            )
        )

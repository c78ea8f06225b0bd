"""Reads over the ledger."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from accounts.models import Account
from bankledger.pagination import InvalidCursor, Page, cursor_decode, page_from
from ledger.models import LedgerEntry


@dataclass
class LedgerReport:
    accounts: int = 0
    entries: int = 0
    balance_mismatches: list[str] = field(default_factory=list)
    unbalanced_transactions: list[str] = field(default_factory=list)
    nonzero_currencies: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.balance_mismatches or self.unbalanced_transactions or self.nonzero_currencies
        )


_SIGNED_AMOUNT = Case(
    When(entries__type=LedgerEntry.Type.CREDIT, then=F("entries__amount")),
    default=-F("entries__amount"),
)


def ledger_verify(*, limit: int = 50) -> LedgerReport:
    """Prove the ledger whole with a handful of aggregate queries (no query per account):
    stored balance == credits - debits == the last entry's balance-after, for every account;
    debits == credits for every transaction; balances sum to zero in every currency.
    At most `limit` offenders of each kind are listed."""
    report = LedgerReport(accounts=Account.objects.count(), entries=LedgerEntry.objects.count())
    last_balance = LedgerEntry.objects.filter(account=OuterRef("pk")).order_by("-id")
    mismatched = (
        Account.objects.annotate(
            from_entries=Coalesce(Sum(_SIGNED_AMOUNT), Value(0)),
            last_after=Coalesce(Subquery(last_balance.values("balance_after")[:1]), Value(0)),
        )
        .filter(~Q(balance=F("from_entries")) | ~Q(balance=F("last_after")))
        .values_list("id", "balance", "from_entries", "last_after")[:limit]
    )
    report.balance_mismatches = [
        f"account {id_}: stored {stored}, credits-debits {computed}, last entry {last}"
        for id_, stored, computed, last in mismatched
    ]
    unbalanced = (
        LedgerEntry.objects.values("transaction_id")
        .annotate(
            debits=Coalesce(Sum("amount", filter=Q(type=LedgerEntry.Type.DEBIT)), Value(0)),
            credits=Coalesce(Sum("amount", filter=Q(type=LedgerEntry.Type.CREDIT)), Value(0)),
        )
        .exclude(debits=F("credits"))
        .values_list("transaction_id", "debits", "credits")[:limit]
    )
    report.unbalanced_transactions = [
        f"transaction {tx}: debits {debits}, credits {credits}"
        for tx, debits, credits in unbalanced
    ]
    totals = Account.objects.values("currency").annotate(total=Sum("balance")).exclude(total=0)
    report.nonzero_currencies = [f"{row['currency']}: {row['total']}" for row in totals]
    return report


def balance_as_of(*, account: Account, moment: datetime) -> int:
    """The account's balance at `moment`, in minor units: the balance-after of its latest entry
    at or before then, found with one descent of the (account, created_at, id) index rather
    than a sum over the history; 0 before its first entry."""
    latest = (
        LedgerEntry.objects.filter(account=account, created_at__lte=moment)
        .order_by("-created_at", "-id")
        .values_list("balance_after", flat=True)
        .first()
    )
    return latest if latest is not None else 0


def statement_entries(
    *,
    account: Account,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
) -> QuerySet[LedgerEntry]:
    """The account's entries oldest first, each with its `counterparty` account id. Ordered by
    entry id: per account, ids grow in the order the account's row lock was taken, so a page
    boundary never moves and entries committed later only ever append."""
    rows = LedgerEntry.objects.filter(account=account)
    if since:
        rows = rows.filter(created_at__gte=since)
    if until:
        rows = rows.filter(created_at__lt=until)
    if cursor:
        after = cursor_decode(cursor, {"id"})["id"]
        if not isinstance(after, int) or isinstance(after, bool):
            raise InvalidCursor()
        rows = rows.filter(id__gt=after)
    return rows.annotate(
        kind=F("transaction__kind"),
        counterparty=Case(
            When(type=LedgerEntry.Type.CREDIT, then=F("transaction__from_account")),
            default=F("transaction__to_account"),
        ),
    ).order_by("id")


def statement_page(*, entries: QuerySet[LedgerEntry], limit: int) -> Page:
    rows = list(entries[: limit + 1])
    return page_from(rows, limit=limit, position=lambda entry: {"id": entry.id})

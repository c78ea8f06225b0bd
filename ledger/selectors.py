"""Reads over the ledger."""

from dataclasses import dataclass, field

from django.db.models import Case, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from accounts.models import Account
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

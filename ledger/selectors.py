"""Reads over the ledger."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Account, AccountLimitChange, AccountStatusChange
from bankledger.core.pagination import InvalidCursor, Page, cursor_decode, page_from
from bankledger.core.replicas import lag_tolerant
from ledger.log.verify import log_verify
from ledger.models import MAX_EXPIRES_IN, MIN_EXPIRES_IN, Hold, LedgerEntry


@dataclass
class LedgerReport:
    accounts: int = 0
    entries: int = 0
    balance_mismatches: list[str] = field(default_factory=list)
    unbalanced_transactions: list[str] = field(default_factory=list)
    nonzero_currencies: list[str] = field(default_factory=list)
    incomplete_batches: list[str] = field(default_factory=list)
    hold_problems: list[str] = field(default_factory=list)
    inactive_entries: list[str] = field(default_factory=list)
    log_leaves: int = 0
    log_checkpoint_size: int = 0
    log_mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.balance_mismatches
            or self.unbalanced_transactions
            or self.nonzero_currencies
            or self.incomplete_batches
            or self.hold_problems
            or self.inactive_entries
            or self.log_mismatches
        )


# Written as SQL because the ORM cannot join an aggregated derived table: per account, one
# grouped pass over the entries gives credits - debits, the last entry's id and the latest
# entry's time, and the last entry is then fetched by primary key. (An ORM Subquery here lands
# in the GROUP BY and is run once per entry: minutes on a million entries instead of about a
# second.) No entry is later than its account's last change (`updated_at`): the posting
# engine stamps an account with its postings' time, and a batch drafted before its locks
# relies on it to know that its rows' time still follows every entry of their accounts.
_BALANCE_MISMATCHES = """
    SELECT a.id, a.balance, COALESCE(e.net, 0), COALESCE(last.balance_after, 0), e.latest_at,
           a.updated_at
    FROM {accounts} a
    LEFT JOIN (
        SELECT account_id,
               SUM(CASE WHEN type = 'CREDIT' THEN amount ELSE -amount END) AS net,
               MAX(id) AS last_id,
               MAX(created_at) AS latest_at
        FROM {entries}
        GROUP BY account_id
    ) e ON e.account_id = a.id
    LEFT JOIN {entries} last ON last.id = e.last_id
    WHERE a.balance <> COALESCE(e.net, 0) OR a.balance <> COALESCE(last.balance_after, 0)
       OR e.latest_at > a.updated_at
    LIMIT %s
"""


def _balance_mismatches(limit: int) -> list[tuple]:
    sql = _BALANCE_MISMATCHES.format(
        accounts=Account._meta.db_table, entries=LedgerEntry._meta.db_table
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [(uuid.UUID(str(row[0])), *row[1:]) for row in cursor.fetchall()]


# Money moves only between ACTIVE accounts (`accounts.triggers.ACTIVE_ONLY`): each entry is
# held to the status its account had at the entry's time, read off the status history. A
# status change is stamped after every earlier entry of its account and no later than every
# entry after it (`accounts.services`), so an entry at a change's time falls after it. Written
# as SQL because the spans between changes are a window over the history, joined by time
# range; only accounts with a history or a status other than ACTIVE are looked at.
_INACTIVE_ENTRIES = """
    WITH changes AS (
        SELECT account_id, from_status, to_status, created_at,
               LAG(created_at) OVER (PARTITION BY account_id ORDER BY created_at, id) AS previous,
               LEAD(created_at) OVER (PARTITION BY account_id ORDER BY created_at, id) AS until
        FROM {changes}
    ), spans AS (
        SELECT account_id, to_status AS status, created_at AS since, until FROM changes
        UNION ALL
        SELECT account_id, from_status, NULL, created_at FROM changes WHERE previous IS NULL
        UNION ALL
        SELECT a.id, a.status, NULL, NULL FROM {accounts} a
        WHERE a.status <> 'ACTIVE'
          AND NOT EXISTS (SELECT 1 FROM changes c WHERE c.account_id = a.id)
    )
    SELECT e.account_id, s.status, e.transaction_id, e.created_at
    FROM spans s
    JOIN {entries} e ON e.account_id = s.account_id
        AND (s.since IS NULL OR e.created_at >= s.since)
        AND (s.until IS NULL OR e.created_at < s.until)
    WHERE s.status <> 'ACTIVE'
    ORDER BY e.id
    LIMIT %s
"""


def _inactive_entries(limit: int) -> list[str]:
    sql = _INACTIVE_ENTRIES.format(
        changes=AccountStatusChange._meta.db_table,
        accounts=Account._meta.db_table,
        entries=LedgerEntry._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        rows = cursor.fetchall()
    return [
        f"account {uuid.UUID(str(account))}: an entry of transaction {uuid.UUID(str(tx))} at "
        f"{moment} while the account was {status}"
        for account, status, tx, moment in rows
    ]


def ledger_verify(*, limit: int = 50) -> LedgerReport:
    """Prove the ledger whole with a handful of aggregate queries (no query per account):
    stored balance == credits - debits == the last entry's balance-after, for every account;
    debits == credits for every transaction, in its accounts' currency; balances sum to zero
    in every currency; every entry posted while its account was ACTIVE. Then the public log:
    every leaf rebuilt from the ledger tables matches what was signed, and the latest
    checkpoint's root is rebuilt (ledger.log.verify). At most `limit` offenders of each kind
    are listed, the first one first."""
    report = LedgerReport(accounts=Account.objects.count(), entries=LedgerEntry.objects.count())
    report.balance_mismatches = [
        f"account {id_}: stored {stored}, credits-debits {computed}, last entry {last}"
        if stored != computed or stored != last
        else f"account {id_}: an entry at {latest_at}, after the account's last change at "
        f"{updated_at}"
        for id_, stored, computed, last, latest_at, updated_at in _balance_mismatches(limit)
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
    report.unbalanced_transactions = (
        [
            f"transaction {tx}: debits {debits}, credits {credits}"
            for tx, debits, credits in unbalanced
        ]
        + _legs_not_matching(limit)
        + _currency_not_matching(limit)
    )
    totals = Account.objects.values("currency").annotate(total=Sum("balance")).exclude(total=0)
    report.nonzero_currencies = [f"{row['currency']}: {row['total']}" for row in totals]
    report.incomplete_batches = _incomplete_batches(limit)
    report.hold_problems = _hold_problems(limit)
    report.inactive_entries = _inactive_entries(limit)
    log = log_verify(limit=limit)
    report.log_leaves, report.log_checkpoint_size = log.leaves, log.checkpoint_size
    report.log_mismatches = log.problems
    return report


def _legs_of(type_: str, account: str) -> Count:
    """A transaction's legs of `type_` on its `account` (a field) moving its whole amount."""
    return Count(
        "entries",
        filter=Q(entries__type=type_, entries__account=F(account), entries__amount=F("amount")),
    )


def _legs_not_matching(limit: int) -> list[str]:
    """A transaction that moved money (COMPLETED, or since REVERSED) has exactly two legs: a
    DEBIT of its amount on its sender and a CREDIT of its amount on its receiver; a FAILED one
    has none. (A capture row without its legs would otherwise release a hold and pay nobody.)"""
    Transaction = apps.get_model("transactions", "Transaction")
    legs = Transaction.objects.annotate(
        legs=Count("entries"),
        debit=_legs_of(LedgerEntry.Type.DEBIT, "from_account"),
        credit=_legs_of(LedgerEntry.Type.CREDIT, "to_account"),
    )
    failed = Q(status="FAILED")
    offenders = legs.filter((failed & Q(legs__gt=0)) | (~failed & ~Q(legs=2, debit=1, credit=1)))
    return [
        f"transaction {tx} ({status}): {n} legs, not its amount from its sender to its receiver"
        for tx, status, n in offenders.values_list("id", "status", "legs")[:limit]
    ]


def _currency_not_matching(limit: int) -> list[str]:
    """A transaction is in its sender's currency and, when it moved money, in its receiver's
    too (a FAILED one may record the refusal of a receiver in another currency). An account's
    currency never changes (`accounts.triggers.IDENTITY`), so this holds for good once
    written."""
    Transaction = apps.get_model("transactions", "Transaction")
    moved = ~Q(status="FAILED")
    offenders = Transaction.objects.filter(
        ~Q(currency=F("from_account__currency")) | (moved & ~Q(currency=F("to_account__currency")))
    )
    columns = ("id", "currency", "from_account__currency", "to_account__currency")
    return [
        f"transaction {tx}: in {currency}, its sender's account in {sent}, its receiver's in "
        f"{received}"
        for tx, currency, sent, received in offenders.values_list(*columns)[:limit]
    ]


def _incomplete_batches(limit: int) -> list[str]:
    """All or nothing: a COMPLETED batch has exactly its `size` transactions, all COMPLETED
    or since REVERSED, and a FAILED one has none. The Batch model lives in the app above this
    one, so it is looked up by name, as the entries' foreign key names it."""
    Batch = apps.get_model("transactions", "Batch")
    offenders = (
        Batch.objects.annotate(
            items=Count("transactions"),
            failed=Count("transactions", filter=Q(transactions__status="FAILED")),
        )
        .filter(
            Q(status=Batch.Status.COMPLETED) & (~Q(items=F("size")) | Q(failed__gt=0))
            | Q(status=Batch.Status.FAILED, items__gt=0)
        )
        .values_list("id", "status", "size", "items")[:limit]
    )
    return [
        f"batch {id_} ({status}): {items} transactions for {size} items"
        for id_, status, size, items in offenders
    ]


@lag_tolerant
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


@lag_tolerant
def statement_entries(
    *,
    account: Account,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
) -> QuerySet[LedgerEntry]:
    """The account's entries oldest first, each with its `counterparty` account id and its
    transaction's kind, reference and metadata. Ordered by
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
        reference=F("transaction__reference"),
        metadata=F("transaction__metadata"),
        counterparty=Case(
            When(type=LedgerEntry.Type.CREDIT, then=F("transaction__from_account")),
            default=F("transaction__to_account"),
        ),
    ).order_by("id")


def statement_page(*, entries: QuerySet[LedgerEntry], limit: int) -> Page:
    rows = list(entries[: limit + 1])
    return page_from(rows, limit=limit, position=lambda entry: {"id": entry.id})


def account_held(*, account: Account) -> int:
    """What the account holds now: its PENDING holds before their expiry (minor units)."""
    total = Hold.objects.filter(
        from_account=account, status=Hold.Status.PENDING, expires_at__gt=timezone.now()
    ).aggregate(total=Sum("amount"))["total"]
    return total or 0


def _limits_unrecorded(limit: int) -> list[str]:
    """A user account's limits are the ones its newest recorded change set, or the defaults (no
    overdraft, no daily limit) when none was recorded: no limit changes unrecorded."""
    newest = AccountLimitChange.objects.filter(account=OuterRef("id")).order_by("-id")
    accounts = Account.objects.filter(is_funding=False).annotate(
        recorded=Exists(newest),
        overdraft=Subquery(newest.values("overdraft_limit")[:1]),
        daily=Subquery(newest.values("daily_outflow_limit")[:1]),
    )
    unrecorded = Q(recorded=False) & (~Q(overdraft_limit=0) | Q(daily_outflow_limit__isnull=False))
    daily_differs = (
        Q(daily_outflow_limit__isnull=True, daily__isnull=False)
        | Q(daily_outflow_limit__isnull=False, daily__isnull=True)
        | (Q(daily_outflow_limit__isnull=False) & ~Q(daily_outflow_limit=F("daily")))
    )
    differs = Q(recorded=True) & (~Q(overdraft_limit=F("overdraft")) | daily_differs)
    offenders = accounts.filter(unrecorded | differs).values_list("id", flat=True)
    return [f"account {id_}: limits not as last recorded" for id_ in offenders[:limit]]


def _hold_writes_broken(limit: int) -> list[str]:
    """Each hold that was PENDING was made by its payer's owner in both accounts' currency, every
    hold lasts what the API allows, and a VOIDED one was voided by the payee's owner or a system
    user (ledger.triggers.HOLD_WRITES, HOLD_EXPIRY_BOUNDS)."""
    made = Hold.objects.exclude(status=Hold.Status.FAILED)
    wrong_terms = made.exclude(
        initiator=F("from_account__user"),
        currency=F("from_account__currency"),
        to_account__currency=F("currency"),
    ).values_list("id", flat=True)
    wrong_void = (
        Hold.objects.filter(status=Hold.Status.VOIDED)
        .exclude(voided_by=F("to_account__user"))
        .exclude(voided_by__is_system=True)
        .values_list("id", flat=True)
    )
    wrong_span = Hold.objects.exclude(
        expires_in__gte=MIN_EXPIRES_IN, expires_in__lte=MAX_EXPIRES_IN
    ).values_list("id", flat=True)
    return (
        [
            f"hold {hold}: not made by its payer's owner in its accounts' currency"
            for hold in wrong_terms[:limit]
        ]
        + [
            f"hold {hold}: expires_in outside {MIN_EXPIRES_IN}-{MAX_EXPIRES_IN} seconds"
            for hold in wrong_span[:limit]
        ]
        + [
            f"hold {hold}: voided by neither its payee's owner nor a system user"
            for hold in wrong_void[:limit]
        ]
    )


def _hold_problems(limit: int) -> list[str]:
    """Every CAPTURED hold has exactly one capture that did not fail, of its captured amount
    (at most the hold's), between its accounts, and is linked to it; no capture posts a hold
    that is not CAPTURED; the payer of every hold that was PENDING is marked `has_holds` (the
    posting engine reads the holds of marked payers only); and no user account's balance - held
    (its live PENDING holds: what it holds is computed from the hold rows, never cached) is
    below -overdraft_limit, whose value is the one last recorded in its limit history."""
    Transaction = apps.get_model("transactions", "Transaction")
    captures = Transaction.objects.filter(kind="CAPTURE").exclude(status="FAILED")
    problems = []
    counted = captures.values("hold_id").annotate(n=Count("id")).filter(n__gt=1)
    problems += [f"hold {row['hold_id']}: {row['n']} captures" for row in counted[:limit]]
    orphans = captures.exclude(hold__status=Hold.Status.CAPTURED).values_list("id", "hold_id")
    problems += [
        f"capture {tx} of hold {hold} that is not CAPTURED" for tx, hold in orphans[:limit]
    ]
    captured = Hold.objects.filter(status=Hold.Status.CAPTURED).select_related("transaction")
    wrong = captured.exclude(
        transaction__hold=F("id"),
        transaction__amount=F("captured_amount"),
        transaction__from_account=F("from_account"),
        transaction__to_account=F("to_account"),
        transaction__kind="CAPTURE",
        transaction__status__in=["COMPLETED", "REVERSED"],
    ).values_list("id", flat=True)
    problems += [f"hold {hold}: its capture does not match it" for hold in wrong[:limit]]
    problems += _hold_writes_broken(limit) + _limits_unrecorded(limit)
    unmarked = (
        Hold.objects.exclude(status=Hold.Status.FAILED)
        .filter(from_account__has_holds=False)
        .values_list("id", "from_account")
    )
    problems += [
        f"hold {hold} from account {account}, which is not marked has_holds"
        for hold, account in unmarked[:limit]
    ]
    live = Hold.objects.filter(
        from_account=OuterRef("id"), status=Hold.Status.PENDING, expires_at__gt=timezone.now()
    )
    held = Coalesce(
        Subquery(live.values("from_account").annotate(t=Sum("amount")).values("t")), Value(0)
    )
    overdrawn = (
        Account.objects.filter(is_funding=False)
        .annotate(held=held)
        .filter(balance__lt=F("held") - F("overdraft_limit"))
        .values_list("id", "balance", "held", "overdraft_limit")
    )
    problems += [
        f"account {id_}: balance {balance} - held {held_} below -overdraft {overdraft}"
        for id_, balance, held_, overdraft in overdrawn[:limit]
    ]
    return problems[:limit]

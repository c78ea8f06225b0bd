"""The database refuses any UPDATE or DELETE of a ledger entry, even from raw SQL, on PostgreSQL
and SQLite alike; likewise for the public log's tables, where it also refuses a leaf anywhere but
at the next position and a checkpoint that does not grow the last one or exceeds the log.
Installed by migrations; `flush` (overridden in this app) lifts them all for the length of a
deliberate wipe of the whole database."""

from dataclasses import dataclass

from accounts.models import Account
from bankledger.core.triggers import Reaction, Refusal
from ledger.models import (
    MAX_EXPIRES_IN,
    MIN_EXPIRES_IN,
    Checkpoint,
    Hold,
    LedgerEntry,
    LogKey,
    LogLeaf,
    LogNode,
)
from users.models import User

MESSAGE = "ledger entries are immutable"

IMMUTABLE = [
    Refusal(
        name=f"ledger_entry_no_{event.lower()}",
        table=LedgerEntry._meta.db_table,
        event=event,
        message=MESSAGE,
    )
    for event in ("UPDATE", "DELETE")
]


# The database's clock, as both backends write it. On SQLite 'now' is one instant for a whole
# statement, its triggers included; on PostgreSQL now() is the transaction's start. Python reads
# expiry through the same expression (ledger.posting), so the two never disagree on a boundary.
NOW = {"postgresql": "now()", "sqlite": "strftime('%Y-%m-%d %H:%M:%f', 'now')"}


@dataclass(frozen=True)
class Guard(Refusal):
    """A Refusal whose condition may read other rows and the clock (`{now}`). SQLite accepts a
    subquery in a trigger's WHEN; PostgreSQL does not, so there the condition is tested in the
    function. `gate`, when given, is a first part of the condition on the row alone: PostgreSQL
    tests it in the trigger's WHEN, so a row it rules out never calls the function."""

    gate: str = ""

    def install_sql(self, vendor: str) -> list[str]:
        when = self.when.replace("{now}", NOW.get(vendor, "CURRENT_TIMESTAMP"))
        gate = f" WHEN ({self.gate})" if self.gate else ""
        if vendor != "postgresql":
            condition = f"({self.gate}) AND ({when})" if self.gate else when
            return Refusal(
                self.name, self.table, self.event, self.message, condition, self.errcode
            ).install_sql(vendor)
        return [
            f"""CREATE OR REPLACE FUNCTION {self.name}() RETURNS trigger AS $$
            BEGIN
                IF {when} THEN
                    RAISE EXCEPTION '{self.literal}' USING ERRCODE = '{self.errcode}';
                END IF;
                RETURN NEW;
            END
            $$ LANGUAGE plpgsql""",
            f"""CREATE OR REPLACE TRIGGER {self.name} BEFORE {self.event} ON {self.table}
            FOR EACH ROW{gate} EXECUTE FUNCTION {self.name}()""",
        ]


LOG_MESSAGE = "the public log is append-only"
_LEAVES, _CHECKPOINTS = LogLeaf._meta.db_table, Checkpoint._meta.db_table
_NEXT_LEAF = f"(SELECT COALESCE(MAX(log_index) + 1, 0) FROM {_LEAVES})"  # noqa: S608 (constant)

LOG = [
    *(
        Refusal(
            name=f"{model._meta.db_table}_no_{event.lower()}",
            table=model._meta.db_table,
            event=event,
            message=LOG_MESSAGE,
        )
        for model in (LogKey, LogLeaf, LogNode, Checkpoint)
        for event in ("UPDATE", "DELETE")
    ),
    Guard(
        name=f"{_LEAVES}_next_position",
        table=_LEAVES,
        event="INSERT",
        message="log leaves are appended at the next position only",
        when=f"NEW.log_index <> {_NEXT_LEAF}",
    ),
    Guard(
        name=f"{_CHECKPOINTS}_grows",
        table=_CHECKPOINTS,
        event="INSERT",
        message="a checkpoint must grow the last one and stay within the log",
        when=(
            f"NEW.tree_size > {_NEXT_LEAF} OR NEW.tree_size <= "  # noqa: S608 (constant)
            f"(SELECT COALESCE(MAX(tree_size), 0) FROM {_CHECKPOINTS})"
        ),
    ),
]

_HOLDS, _ACCOUNTS = Hold._meta.db_table, Account._meta.db_table


def held_sql(account: str) -> str:
    """What `account` (an SQL expression for its id) holds now: its PENDING holds whose expiry
    is still ahead."""
    return (
        f"(SELECT COALESCE(SUM(h.amount), 0) FROM {_HOLDS} h"  # noqa: S608 (constant)
        f" WHERE h.from_account_id = {account} AND h.status = 'PENDING'"
        " AND h.expires_at > {now})"
    )


AVAILABLE_MESSAGE = "balance - held would fall below -overdraft_limit"
_TERMS_CHANGED = " OR ".join(
    f"OLD.{column} <> NEW.{column} OR (OLD.{column} IS NULL) <> (NEW.{column} IS NULL)"
    for column in (
        "amount",
        "currency",
        "from_account_id",
        "to_account_id",
        "expires_at",
        "initiator_id",
        "idempotency_key",
        "reference",
        "metadata",
        "fingerprint",
        "expires_in",
        "created_at",
        "failure_code",
        "failure_message",
        "failure_remaining",
    )
)

# One of HOLDS (below), named for the migrations that gave it its gate (0008, 0011).
ACCOUNTS_WITHIN_AVAILABLE = Guard(
    name="accounts_within_available",
    table=_ACCOUNTS,
    event="UPDATE",
    message=AVAILABLE_MESSAGE,
    errcode="check_violation",
    # A transfer's receiver, a funding account, an account that never held money (nothing is
    # held: the CHECK accounts_user_balance_within_overdraft is the whole rule): no call, no
    # read of the holds. `has_holds` is set, in the hold's own statement, before any hold
    # can count (HOLDS_MARK_PAYER) and never unset (HAS_HOLDS_KEPT).
    gate=(
        "NOT NEW.is_funding AND NEW.has_holds AND (NEW.balance < OLD.balance"
        " OR NEW.overdraft_limit < OLD.overdraft_limit)"
    ),
    when=f"NEW.balance + NEW.overdraft_limit - {held_sql('NEW.id')} < 0",
)

# A user account's `balance - held` never below `-overdraft_limit`: checked when a hold is
# written and when a balance (or the overdraft) goes down. Then a hold changes only while
# PENDING (so it is captured, voided or expired at most once), never in its terms, is captured
# only before and expired only from its `expires_at`, and is never deleted.
HOLDS = [
    Guard(
        name="holds_within_available",
        table=_HOLDS,
        event="INSERT",
        message=AVAILABLE_MESSAGE,
        errcode="check_violation",
        when=(
            f"NEW.status = 'PENDING' AND EXISTS (SELECT 1 FROM {_ACCOUNTS} a"  # noqa: S608
            " WHERE a.id = NEW.from_account_id AND NOT a.is_funding"
            f" AND a.balance + a.overdraft_limit - NEW.amount - {held_sql('a.id')} < 0)"
        ),
    ),
    ACCOUNTS_WITHIN_AVAILABLE,
    Refusal(
        name="holds_final",
        table=_HOLDS,
        event="UPDATE",
        when="OLD.status <> 'PENDING'",
        message="a hold that is no longer PENDING cannot change",
        errcode="check_violation",
    ),
    Refusal(
        name="holds_terms_immutable",
        table=_HOLDS,
        event="UPDATE",
        when=_TERMS_CHANGED,
        message="the terms of a hold are immutable",
        errcode="check_violation",
    ),
    Guard(
        name="holds_expiry",
        table=_HOLDS,
        event="UPDATE",
        when=(
            "(NEW.status IN ('CAPTURED', 'VOIDED') AND OLD.expires_at <= {now})"
            " OR (NEW.status = 'EXPIRED' AND OLD.expires_at > {now})"
        ),
        message="a hold is captured or voided only before its expiry and expires only from it",
        errcode="check_violation",
    ),
    Refusal(name="holds_no_delete", table=_HOLDS, event="DELETE", message="holds are kept"),
]
# CAPTURED only with its own capture: a COMPLETED CAPTURE transaction of the captured amount
# that names this hold (the engine inserts it first). Installed by the transactions app's
# migration that gives transactions their hold.
CAPTURE_LINK = Guard(
    name="holds_captured_by_its_capture",
    table=_HOLDS,
    event="UPDATE",
    message="a hold is CAPTURED only by its own completed capture",
    errcode="check_violation",
    when=(
        "NEW.status = 'CAPTURED' AND NOT EXISTS (SELECT 1 FROM transactions_transaction t"
        " WHERE t.id = NEW.transaction_id AND t.hold_id = NEW.id AND t.kind = 'CAPTURE'"
        " AND t.status = 'COMPLETED' AND t.amount = NEW.captured_amount"
        " AND t.from_account_id = NEW.from_account_id AND t.to_account_id = NEW.to_account_id"
        " AND t.currency = NEW.currency)"
    ),
)


def install(connection) -> None:
    for rule in IMMUTABLE:
        rule.install(connection)


def uninstall(connection) -> None:
    for rule in IMMUTABLE:
        rule.uninstall(connection)


# Every account that a PENDING hold was ever written from is marked, by the database, and stays
# marked: the posting engine reads the holds of marked payers only (ledger.posting).
HOLDS_MARK_PAYER = Reaction(
    name="holds_mark_payer",
    table=_HOLDS,
    event="INSERT",
    when="NEW.status = 'PENDING'",
    statement=(
        f"UPDATE {_ACCOUNTS} SET has_holds = TRUE"  # noqa: S608 (constant)
        " WHERE id = NEW.from_account_id AND NOT has_holds"
    ),
)
HAS_HOLDS_KEPT = Refusal(
    name="accounts_has_holds_kept",
    table=_ACCOUNTS,
    event="UPDATE",
    when="OLD.has_holds AND NOT NEW.has_holds",
    message="an account that held money stays marked has_holds",
    errcode="check_violation",
)
_USERS = User._meta.db_table
# How a hold may be written and change, beyond HOLDS: written PENDING (or FAILED, a recorded
# refusal) only; a PENDING hold never becomes FAILED; a PENDING one is made by the payer's
# owner between two ACTIVE accounts of its currency; only the payee's owner or a system user
# voids it. Installed by migration 0010 with the widened HOLDS above.
HOLD_WRITES = [
    Refusal(
        name="holds_written_pending_or_failed",
        table=_HOLDS,
        event="INSERT",
        when="NEW.status NOT IN ('PENDING', 'FAILED')",
        message="a hold is written PENDING, or FAILED as a recorded refusal",
        errcode="check_violation",
    ),
    Refusal(
        name="holds_never_fail_later",
        table=_HOLDS,
        event="UPDATE",
        when="OLD.status = 'PENDING' AND NEW.status = 'FAILED'",
        message="a PENDING hold is captured, voided or expired, never FAILED",
        errcode="check_violation",
    ),
    Guard(
        name="holds_between_active_accounts",
        table=_HOLDS,
        event="INSERT",
        when=(
            "NEW.status = 'PENDING' AND ("  # noqa: S608 (constant)
            f"NOT EXISTS (SELECT 1 FROM {_ACCOUNTS} a WHERE a.id = NEW.from_account_id"
            " AND a.user_id = NEW.initiator_id AND a.currency = NEW.currency"
            " AND a.status = 'ACTIVE')"
            f" OR NOT EXISTS (SELECT 1 FROM {_ACCOUNTS} a WHERE a.id = NEW.to_account_id"
            " AND a.currency = NEW.currency AND a.status = 'ACTIVE'))"
        ),
        message="a hold is made by the owner of its payer, between ACTIVE accounts of its currency",
        errcode="check_violation",
    ),
    Guard(
        name="holds_voided_by_payee_or_system",
        table=_HOLDS,
        event="UPDATE",
        when=(
            "NEW.status = 'VOIDED' AND OLD.status = 'PENDING'"  # noqa: S608 (constant)
            f" AND NOT EXISTS (SELECT 1 FROM {_ACCOUNTS} a WHERE a.id = NEW.to_account_id"
            " AND a.user_id = NEW.voided_by_id)"
            f" AND NOT EXISTS (SELECT 1 FROM {_USERS} u WHERE u.id = NEW.voided_by_id"
            " AND u.is_system)"
        ),
        message="a hold is voided by the owner of its payee or by a system user",
        errcode="check_violation",
    ),
]
# A hold lasts what the API allows (its `expires_in` never changes: holds_terms_immutable).
# Installed by migration 0012.
HOLD_EXPIRY_BOUNDS = Refusal(
    name="holds_expires_in_bounds",
    table=_HOLDS,
    event="INSERT",
    when=f"NEW.expires_in < {MIN_EXPIRES_IN} OR NEW.expires_in > {MAX_EXPIRES_IN}",
    message=f"a hold expires {MIN_EXPIRES_IN} to {MAX_EXPIRES_IN} seconds after it is made",
    errcode="check_violation",
)
EVERY = [
    *IMMUTABLE,
    *LOG,
    *HOLDS,
    CAPTURE_LINK,
    HOLDS_MARK_PAYER,
    HAS_HOLDS_KEPT,
    *HOLD_WRITES,
    HOLD_EXPIRY_BOUNDS,
]

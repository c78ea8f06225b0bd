"""What the database itself refuses on accounts and their limit history, beyond CHECKs: an
account's funding role never changes (a funding account may go below zero, a user account only
down to its overdraft: flipping the role would let a balance pass that gate), a limit change,
once recorded, never changes and is never deleted, and an account's currency and owner never
change (its entries are counted in that currency; a batch drafts its rows and their events'
audiences from an unlocked read of both, `ledger.posting`), and a balance changes only while
its account is ACTIVE."""

from accounts.models import Account, AccountLimitChange
from bankledger.core.triggers import Refusal

_LIMITS = AccountLimitChange._meta.db_table


def _account_update_refused(name: str, when: str, message: str) -> Refusal:
    """An UPDATE of an account row refused, as a CHECK would refuse it, when `when` holds."""
    return Refusal(
        name=name,
        table=Account._meta.db_table,
        event="UPDATE",
        when=when,
        message=message,
        errcode="check_violation",
    )


RULES = [
    _account_update_refused(
        "accounts_funding_role_fixed",
        "OLD.is_funding <> NEW.is_funding",
        "the funding role of an account never changes",
    ),
    *(
        Refusal(
            name=f"{_LIMITS}_no_{event.lower()}",
            table=_LIMITS,
            event=event,
            message="a recorded limit change is kept as it was",
        )
        for event in ("UPDATE", "DELETE")
    ),
]


IDENTITY = [
    _account_update_refused(
        f"accounts_{column}_fixed",
        f"OLD.{column} <> NEW.{column}",
        f"the {what} of an account never changes",
    )
    for column, what in (("currency", "currency"), ("user_id", "owner"))
]


# Money moves only between ACTIVE accounts: the engine refuses a leg on the locked rows
# (AccountNotActive) before it writes; this is the database's own word on it. `verify_ledger`
# checks the entries against the accounts' status history.
ACTIVE_ONLY = _account_update_refused(
    "accounts_balance_moves_while_active",
    "NEW.balance <> OLD.balance AND (OLD.status <> 'ACTIVE' OR NEW.status <> 'ACTIVE')",
    "money moves only between ACTIVE accounts",
)

"""What the database itself refuses on accounts and their limit history, beyond CHECKs: an
account's funding role never changes (a funding account may go below zero, a user account only
down to its overdraft: flipping the role would let a balance pass that gate), and a limit
change, once recorded, never changes and is never deleted."""

from accounts.models import Account, AccountLimitChange
from bankledger.core.triggers import Refusal

_LIMITS = AccountLimitChange._meta.db_table

RULES = [
    Refusal(
        name="accounts_funding_role_fixed",
        table=Account._meta.db_table,
        event="UPDATE",
        when="OLD.is_funding <> NEW.is_funding",
        message="the funding role of an account never changes",
        errcode="check_violation",
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

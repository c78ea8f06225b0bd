"""`ledger.triggers.ACCOUNTS_WITHIN_AVAILABLE` as earlier migrations installed it, for the
migrations that install it and go back: the current rule's gate reads a column (`has_holds`)
that those migrations ran before."""

import dataclasses

from ledger.triggers import ACCOUNTS_WITHIN_AVAILABLE

# 0008's gate: a funding account's or a credited account's row never calls the function.
GATE_0008 = "NOT NEW.is_funding AND (NEW.balance < OLD.balance OR NEW.overdraft_limit < OLD.overdraft_limit)"
AS_0008 = dataclasses.replace(ACCOUNTS_WITHIN_AVAILABLE, gate=GATE_0008)
# 0006's: the whole condition tested in the function, on every row.
AS_0006 = dataclasses.replace(
    ACCOUNTS_WITHIN_AVAILABLE, gate="", when=f"{GATE_0008} AND {ACCOUNTS_WITHIN_AVAILABLE.when}"
)

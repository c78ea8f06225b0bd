"""A small pure-Python model of the ledger, for the model-based test: accounts with balances
and statuses, transactions with their statuses, and the answer the API must give to each
request. No Django here: the model is the specification the real API is checked against.

To add a capability (limits, batches...): one method that says what answer a request
gets (an `Answer`) from the current state, and one that applies its effect once the real API
has given that answer."""

from dataclasses import dataclass

ACTIVE, FROZEN, CLOSED = "ACTIVE", "FROZEN", "CLOSED"
COMPLETED, FAILED, REVERSED = "COMPLETED", "FAILED", "REVERSED"
TRANSFER, INITIAL_FUNDS, REVERSAL, CAPTURE = "TRANSFER", "INITIAL_FUNDS", "REVERSAL", "CAPTURE"
PENDING, CAPTURED, VOIDED = "PENDING", "CAPTURED", "VOIDED"
EXPONENTS = {"INR": 2, "USD": 2, "JPY": 0}
# Refusals written as a FAILED transaction and replayed for their key.
RECORDED_REFUSALS = {
    "account_not_active",
    "currency_mismatch",
    "insufficient_funds",
    "not_reversible",
    "hold_not_pending",
}


@dataclass(frozen=True)
class Answer:
    status: int
    code: str = ""

    @property
    def recorded(self) -> bool:
        """A transaction row exists for this answer: it moved money or is a recorded refusal."""
        return self.status == 201 or self.code in RECORDED_REFUSALS


@dataclass
class Account:
    id: str
    owner: str
    currency: str
    balance: int = 0
    status: str = ACTIVE
    funding: bool = False


@dataclass
class Tx:
    id: str
    kind: str
    sender: str
    receiver: str
    amount: int
    status: str


@dataclass
class Hold:
    """A hold that the API recorded: PENDING, CAPTURED, VOIDED, or FAILED (a recorded refusal).
    The model's holds never reach their expiry (the default 7 days)."""

    id: str
    payer: str
    payee: str
    amount: int
    status: str


def major(minor: int, currency: str) -> str:
    """Minor units as the API renders them (a decimal string with the currency's exponent)."""
    exponent = EXPONENTS[currency]
    if exponent == 0:
        return str(minor)
    sign, minor = ("-" if minor < 0 else ""), abs(minor)
    return f"{sign}{minor // 10**exponent}.{minor % 10**exponent:0{exponent}d}"


class LedgerModel:
    def __init__(self, system: str):
        self.system = system
        self.accounts: dict[str, Account] = {}
        self.txs: dict[str, Tx] = {}
        self.holds: dict[str, Hold] = {}

    # --- accounts ------------------------------------------------------------------------

    def account_opened(self, account_id: str, owner: str, currency: str, funding=False) -> None:
        self.accounts[account_id] = Account(account_id, owner, currency, funding=funding)

    def funding_account(self, currency: str) -> Account | None:
        return next(
            (a for a in self.accounts.values() if a.funding and a.currency == currency), None
        )

    def status_change(self, account_id: str, *, to: str, actor: str) -> Answer:
        """Freeze (to FROZEN), unfreeze (to ACTIVE) or close (to CLOSED) by `actor`."""
        account = self.accounts[account_id]
        if actor != self.system:
            if to != CLOSED:
                return Answer(403, "not_system_user")
            if account.owner != actor:
                return Answer(404, "account_not_found")
            if account.status == FROZEN:
                return Answer(400, "account_frozen")
        if account.status == to:
            return Answer(200)
        if account.status == CLOSED:
            return Answer(400, "account_closed")
        if to == CLOSED and account.funding:
            return Answer(400, "funding_account_not_closable")
        if to == CLOSED and account.balance != 0:
            return Answer(400, "account_not_empty")
        if to == CLOSED and any(
            account_id in (h.payer, h.payee) and h.status == PENDING for h in self.holds.values()
        ):
            return Answer(400, "account_has_pending_holds")
        return Answer(200)

    def status_changed(self, account_id: str, *, to: str, answer: Answer) -> None:
        if answer.status == 200:
            self.accounts[account_id].status = to

    # --- money ---------------------------------------------------------------------------

    def held(self, account_id: str) -> int:
        """What the account's PENDING holds reserve: not available to spend."""
        return sum(
            h.amount for h in self.holds.values() if h.payer == account_id and h.status == PENDING
        )

    def _refusal(
        self, sender: Account, receiver: Account, amount: int, *, released: int = 0
    ) -> Answer | None:
        """`released`: a capture's own reservation, which it spends."""
        if sender.status != ACTIVE or receiver.status != ACTIVE:
            return Answer(400, "account_not_active")
        if sender.currency != receiver.currency:
            return Answer(400, "currency_mismatch")
        available = sender.balance - self.held(sender.id) + released
        if not sender.funding and available < amount:
            return Answer(400, "insufficient_funds")
        return None

    def transfer(self, *, initiator: str, sender: str, receiver: str, amount: int) -> Answer:
        if sender == receiver:
            return Answer(400, "same_account")
        if self.accounts[sender].owner != initiator:
            return Answer(403, "forbidden_account")
        return self._refusal(self.accounts[sender], self.accounts[receiver], amount) or Answer(201)

    def fund(self, *, receiver: str, amount: int) -> Answer:
        """Initial funds from the system's funding account in the receiver's currency."""
        currency = self.accounts[receiver].currency
        # Opened on first use, before the request is judged.
        funding = self.funding_account(currency) or Account(
            "new", self.system, currency, funding=True
        )
        return self._refusal(funding, self.accounts[receiver], amount) or Answer(201)

    def reverse(self, *, tx_id: str) -> Answer:
        original = self.txs[tx_id]
        if original.status != COMPLETED or original.kind == REVERSAL:
            return Answer(400, "not_reversible")
        sender, receiver = self.accounts[original.receiver], self.accounts[original.sender]
        return self._refusal(sender, receiver, original.amount) or Answer(201)

    # --- holds ---------------------------------------------------------------------------

    def hold(self, *, initiator: str, payer: str, payee: str, amount: int) -> Answer:
        """A hold is checked like a transfer: what it may reserve is what the payer may send."""
        return self.transfer(initiator=initiator, sender=payer, receiver=payee, amount=amount)

    def hold_made(self, hold_id: str, payer: str, payee: str, amount: int, answer: Answer):
        if answer.recorded:
            status = PENDING if answer.status == 201 else FAILED
            self.holds[hold_id] = Hold(hold_id, payer, payee, amount, status)

    def capture(self, *, hold_id: str, amount: int) -> Answer:
        hold = self.holds[hold_id]
        if not 0 < amount <= hold.amount:
            return Answer(400, "invalid_amount")
        if hold.status != PENDING:
            return Answer(400, "hold_not_pending")
        payer, payee = self.accounts[hold.payer], self.accounts[hold.payee]
        return self._refusal(payer, payee, amount, released=hold.amount) or Answer(201)

    def captured(self, hold_id: str, answer: Answer) -> None:
        """After `posted` applied the capture's transaction."""
        if answer.status == 201:
            self.holds[hold_id].status = CAPTURED

    def void(self, *, hold_id: str, actor: str) -> Answer:
        """By a system user or the payee's owner; the payer's owner sees the hold but may not."""
        hold = self.holds[hold_id]
        if actor != self.system and actor != self.accounts[hold.payee].owner:
            return Answer(403, "not_allowed")
        if hold.status != PENDING:
            return Answer(400, "hold_not_pending")
        return Answer(200)

    def voided(self, hold_id: str, answer: Answer) -> None:
        if answer.status == 200:
            self.holds[hold_id].status = VOIDED

    def posted(self, tx: Tx, answer: Answer, reversal_of: str | None = None) -> None:
        """Apply a money request's answer: record its row, move the money if it completed."""
        if not answer.recorded:
            return
        tx.status = COMPLETED if answer.status == 201 else FAILED
        self.txs[tx.id] = tx
        if tx.status == COMPLETED:
            self.accounts[tx.sender].balance -= tx.amount
            self.accounts[tx.receiver].balance += tx.amount
            if reversal_of:
                self.txs[reversal_of].status = REVERSED

    @staticmethod
    def replayed(answer: Answer) -> Answer:
        """The same request again, with the same key: the first answer, 201 becoming 200."""
        return Answer(200) if answer.status == 201 else answer

"""The refusals of the money path: raised by the posting engine on the locked rows. Those that
are recorded (a FAILED transaction, replayed for its key) derive from `TransferRefused`. Then
the public log's errors."""

from bankledger.core.errors import ApplicationError


class InvalidAccounts(ApplicationError):
    """Either account does not exist (a malformed id counts as unknown). Not recorded."""

    code = "invalid_account"
    message = "Invalid fromAccount or toAccount"


class NotAccountOwner(ApplicationError):
    """The sending account is not the caller's. Not recorded."""

    status_code = 403
    code = "forbidden_account"
    message = "You can only send money from your own account."


class InvalidAmount(ApplicationError):
    """Too many decimals for the currency, or more than the per-transfer bound. Not recorded."""

    code = "invalid_amount"
    message = "Invalid amount."

    def __init__(self, problem: str):
        super().__init__(extra={"errors": {"amount": [problem]}})


class IdempotencyConflict(ApplicationError):
    """The caller already used this key for a request with a different body."""

    status_code = 409
    code = "idempotency_key_reused"
    message = "This idempotencyKey was already used with a different request."


class TransferRefused(ApplicationError):
    """A business refusal that is recorded as a FAILED transaction and replayed for its key.

    `transaction` is that FAILED row, or for a batch `batch` is the FAILED batch and `index`
    the refused item; the API adds them to the response body."""

    def __init__(
        self,
        message: str | None = None,
        *,
        transaction=None,
        batch=None,
        index=None,
        hold=None,
        remaining: str | None = None,
    ):
        extra = {} if index is None else {"index": index}
        if remaining is not None:
            extra["remaining"] = remaining
        super().__init__(message, extra=extra or None)
        self.transaction = transaction
        self.batch = batch
        self.hold = hold

    def note(self) -> str:
        if self.hold is not None:
            return f"Recorded as FAILED hold {self.hold.pk}."
        if self.batch is not None:
            return f"Nothing was posted; recorded as FAILED batch {self.batch.pk}."
        return f"Recorded as FAILED transaction {self.transaction.pk}." if self.transaction else ""


class AccountNotActive(TransferRefused):
    code = "account_not_active"
    message = "Both accounts must be ACTIVE."


class CurrencyMismatch(TransferRefused):
    code = "currency_mismatch"
    message = "The two accounts hold different currencies."


class InsufficientFunds(TransferRefused):
    code = "insufficient_funds"
    message = "Insufficient balance."


class NotReversible(TransferRefused):
    """The original is not COMPLETED (failed, or reversed already) or is itself a reversal."""

    code = "not_reversible"
    message = "Only a COMPLETED transfer that is not itself a reversal can be reversed."


class LimitExceeded(TransferRefused):
    """The movement would take more out of the account today (UTC) than its daily outflow
    limit allows; the body says what `remaining` is."""

    code = "limit_exceeded"
    message = "The daily outflow limit of the account would be exceeded."


class HoldNotPending(TransferRefused):
    """The hold was captured, voided, expired or refused already."""

    code = "hold_not_pending"
    message = "The hold is not PENDING."


class HoldExpired(TransferRefused):
    """The hold reached its expiresAt: it no longer reserves anything and cannot be captured."""

    code = "hold_expired"
    message = "The hold has expired."


REFUSALS = {
    cls.code: cls
    for cls in (
        AccountNotActive,
        CurrencyMismatch,
        InsufficientFunds,
        NotReversible,
        LimitExceeded,
        HoldNotPending,
        HoldExpired,
    )
}


# The public log (ledger.log).
class CheckpointNotFound(ApplicationError):
    """No checkpoint was ever signed at that size (or none at all yet)."""

    status_code = 404
    code = "checkpoint_not_found"
    message = "No checkpoint has been signed at that tree size."


class NoReceipt(ApplicationError):
    """The transaction moved no money (refused or not yet posted), so it has no receipt."""

    status_code = 404
    code = "no_receipt"
    message = "Only completed transactions have receipts."


class NotInLog(ApplicationError):
    """The transaction is not yet covered by a signed checkpoint; it will be within
    LOG_INTERVAL seconds of its commit."""

    status_code = 404
    code = "not_in_log"
    message = "The transaction is not in a signed checkpoint of the log yet; retry shortly."


class InvalidTreeSize(ApplicationError):
    """A proof asked for sizes the log cannot prove: outside 1..latest checkpoint, from > to,
    or a tree that does not contain the transaction."""

    code = "invalid_tree_size"
    message = "Invalid tree size."


class NotPosted(ApplicationError):
    """`log_append` was given a transaction that has no ledger entries (a caller's bug: only
    posted transactions belong in the log)."""

    code = "not_posted"
    message = "Only posted transactions can be appended to the log."

# NotSystemUser lives in accounts (the account lifecycle refuses with it too); re-exported here.
from accounts.exceptions import NotSystemUser as NotSystemUser
from bankledger.core.errors import ApplicationError


class SameAccount(ApplicationError):
    """fromAccount equals toAccount. Not recorded."""

    code = "same_account"
    message = "fromAccount and toAccount must be different accounts."


class IdempotencyKeyMismatch(ApplicationError):
    """The body's idempotencyKey and the Idempotency-Key header disagree."""

    code = "idempotency_key_mismatch"
    message = "The idempotencyKey field and the Idempotency-Key header differ."


class TransactionNotFound(ApplicationError):
    """No such transaction, or not one the caller may see (the two are not told apart)."""

    status_code = 404
    code = "transaction_not_found"
    message = "Transaction not found."


class NotAllowed(ApplicationError):
    """The caller may see the resource but not do what they ask of it."""

    status_code = 403
    code = "not_allowed"
    message = "You may not do this to this hold."


class HoldNotFound(ApplicationError):
    """No such hold, or not one the caller may see (the two are not told apart)."""

    status_code = 404
    code = "hold_not_found"
    message = "Hold not found."

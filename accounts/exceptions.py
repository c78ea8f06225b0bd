from bankledger.errors import ApplicationError


class UnknownCurrency(ApplicationError):
    """Not an ISO 4217 currency with a minor unit."""

    code = "unknown_currency"
    message = "Unknown currency."


class AccountNotFound(ApplicationError):
    """No such account, or not one the caller may see (the two are not told apart)."""

    status_code = 404
    code = "account_not_found"
    message = "Account not found."

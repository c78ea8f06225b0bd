from bankledger.core.errors import ApplicationError


class UnknownCurrency(ApplicationError):
    """Not an ISO 4217 currency with a minor unit. Says which known codes look close."""

    code = "unknown_currency"
    message = "Unknown currency."

    def __init__(self, *, currency: str, close: list[str]):
        problem = f"Unknown currency {currency!r}: use an ISO 4217 code"
        problem += f"; did you mean {' or '.join(close)}?" if close else "."
        super().__init__(problem, extra={"errors": {"currency": [problem]}})


class AccountNotFound(ApplicationError):
    """No such account, or not one the caller may see (the two are not told apart)."""

    status_code = 404
    code = "account_not_found"
    message = "Account not found."


class NotSystemUser(ApplicationError):
    """A system-only call made by an ordinary user."""

    status_code = 403
    code = "not_system_user"
    message = "Forbidden access, not a system user."


class InvalidAccountStatus(ApplicationError):
    """A status that is not ACTIVE, FROZEN or CLOSED."""

    code = "invalid_status"
    message = "Status must be ACTIVE, FROZEN or CLOSED."


class AccountClosed(ApplicationError):
    """CLOSED is final: a closed account's status never changes again."""

    code = "account_closed"
    message = "The account is closed; a closed account cannot be changed."


class AccountNotEmpty(ApplicationError):
    """Only an account with a zero balance may be closed."""

    code = "account_not_empty"
    message = "The account still holds money; only a zero balance can be closed."


class FundingAccountNotClosable(ApplicationError):
    """A system user's funding account is the source of initial funds and stays open."""

    code = "funding_account_not_closable"
    message = "A funding account cannot be closed."


class AccountFrozen(ApplicationError):
    """A frozen account is held by a system user; its owner cannot close it until unfrozen."""

    code = "account_frozen"
    message = "The account is frozen; only a system user can close it."


class FundingAccountHasNoLimits(ApplicationError):
    """A funding account may go below zero by design; limits are for user accounts."""

    code = "funding_account_no_limits"
    message = "A funding account has no limits."


class LimitBelowUsage(ApplicationError):
    """The account's balance minus what it holds is already below the new overdraft limit."""

    code = "limit_below_usage"
    message = "The account already uses more overdraft than the new limit allows."


class InvalidLimit(ApplicationError):
    """A limit that is not a non-negative amount with the currency's decimals."""

    code = "invalid_input"
    message = "Invalid limit."

    def __init__(self, field: str, problem: str):
        super().__init__(extra={"errors": {field: [problem]}})


class AccountHasPendingHolds(ApplicationError):
    """A hold on the account (as payer or payee) is still PENDING before its expiry: it must be
    captured, voided or expire first."""

    code = "account_has_pending_holds"
    message = "The account has pending holds; capture, void or let them expire first."

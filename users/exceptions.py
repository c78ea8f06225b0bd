from bankledger.core.errors import ApplicationError
from users.passwords import password_rules


class EmailTaken(ApplicationError):
    """Registration with an email that exists already, in any letter case."""

    status_code = 422
    code = "email_taken"
    message = "User already exists with email."

    def __init__(self):
        super().__init__(extra={"status": "failed"})


class InvalidCredentials(ApplicationError):
    """Unknown email or wrong password: one message for both, so emails cannot be probed."""

    status_code = 401
    code = "invalid_credentials"
    message = "Email or password is INVALID"


class LoginThrottled(ApplicationError):
    """Too many failed logins for this email or this client address."""

    status_code = 429
    code = "too_many_attempts"
    message = "Too many failed login attempts. Try again later."

    def __init__(self, retry_after: int):
        super().__init__(extra={"retry_after": retry_after})


class WeakPassword(ApplicationError):
    """The password failed Django's validators: `errors.password` says which rules it broke,
    the message states every rule, so the next attempt can get them all right."""

    code = "invalid_input"

    def __init__(self, problems: list[str]):
        message = "Invalid input. " + " ".join(password_rules())
        super().__init__(message, extra={"errors": {"password": problems}})


class QuotaExceeded(ApplicationError):
    """The user already owns as many of these as the deployment allows (users.quotas)."""

    status_code = 403
    code = "quota_exceeded"
    message = "Quota exceeded."


class SystemScopeNotAllowed(ApplicationError):
    """Only a system user's key may carry the `system` scope."""

    status_code = 403
    code = "not_system_user"
    message = "Only a system user's key may have the system scope."


class ApiKeyNotFound(ApplicationError):
    """No such key, or not the caller's."""

    status_code = 404
    code = "not_found"
    message = "API key not found."

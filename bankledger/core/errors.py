"""One error base for the whole service and the DRF handler that renders every error as
`{"message", "code", ...}` (API.md: never an HTML page, never a stack trace)."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, OperationalError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger("bankledger.core.errors")


class ApplicationError(Exception):
    """A business failure: an HTTP status, a stable snake_case code and a human message.

    `extra` adds keys to the JSON body (the FAILED transaction, the 422's `status`)."""

    status_code = 400
    code = "application_error"
    message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, extra: dict | None = None):
        self.message = message or self.message
        self.extra = extra or {}
        super().__init__(self.message)

    def note(self) -> str:
        """A sentence for people that `error_line` adds after the message; none by default."""
        return ""


class ServiceUnavailable(ApplicationError):
    """The database could not be reached or kept refusing the write; nothing was changed."""

    status_code = 503
    code = "service_unavailable"
    message = "The service is temporarily unavailable, please retry."


class PayloadTooLarge(drf.APIException):
    status_code = 413
    default_detail = "Request body too large."
    default_code = "payload_too_large"


_DRF_MESSAGES = {
    drf.NotAuthenticated: ("Unauthorized access, token is missing", "token_missing"),
    drf.AuthenticationFailed: ("Unauthorized access, token is invalid", "token_invalid"),
}


def error_line(error: ApplicationError) -> str:
    """One line for a person reading the admin or a command's output: the message, the
    per-field details of invalid input (`extra["errors"]`), and what the error adds about
    itself (`ApplicationError.note`, e.g. the FAILED transaction that recorded a refusal)."""
    fields = error.extra.get("errors", {})
    details = [str(text) for texts in fields.values() for text in texts]
    return " ".join(part for part in [error.message, *details, error.note()] if part)


def body(message: str, code: str, **extra) -> dict:
    return {"message": message, "code": code, **extra}


def exception_handler(exc, context):
    """Render any exception raised in an API view as JSON."""
    if isinstance(exc, ApplicationError):
        headers = (
            {"Retry-After": str(exc.extra.pop("retry_after"))}
            if "retry_after" in exc.extra
            else None
        )
        return Response(body(exc.message, exc.code, **exc.extra), exc.status_code, headers=headers)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        # Django refuses a Content-Length over DATA_UPLOAD_MAX_MEMORY_SIZE before reading.
        exc = PayloadTooLarge()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.APIException):
        return _render_api_exception(exc)
    if isinstance(exc, OperationalError):
        logger.warning("database unavailable: %s", exc)
        err = ServiceUnavailable()
        return Response(body(err.message, err.code), err.status_code, headers={"Retry-After": "1"})
    if isinstance(exc, IntegrityError):
        logger.error("IntegrityError reached the API: this is a bug", exc_info=exc)
    else:
        logger.error("unhandled error in %s", context.get("view"), exc_info=exc)
    return Response(body("Internal server error.", "server_error"), 500)


def _render_api_exception(exc: drf.APIException) -> Response:
    headers = {}
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
        for cls, (message, code) in _DRF_MESSAGES.items():
            if isinstance(exc, cls):
                return Response(body(message, code), 401, headers=headers)
    if isinstance(exc, drf.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response(body("Invalid input.", "invalid_input", errors=errors), 400)
    if isinstance(exc, drf.Throttled):
        message = f"Too many requests: rate limit exceeded. Retry in {exc.wait or 1} s."
        return Response(body(message, "rate_limited"), 429, headers=headers)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    return Response(body(str(exc.detail), code), exc.status_code, headers=headers)


@csrf_exempt
def json_not_found(request, exception=None, *args, **kwargs):
    """404 for any path under /api/ that no route matches, whatever the method: exempt from
    Django's CSRF check, which would otherwise answer an unmatched POST with its HTML 403."""
    return JsonResponse(body("Not found.", "not_found"), status=404)


def json_server_error(request, *args, **kwargs):
    """500 raised outside a DRF view (middleware): still JSON, still no stack trace."""
    return JsonResponse(body("Internal server error.", "server_error"), status=500)


def json_bad_request(request, exception=None, *args, **kwargs):
    """400 raised by Django itself, e.g. a Host header that is not in ALLOWED_HOSTS."""
    return JsonResponse(body("Bad request.", "bad_request"), status=400)

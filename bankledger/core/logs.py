"""Logs: one line per request, one format for every record, a request id a client can quote.

structlog renders everything, Django's and the libraries' standard-library records included
(its `ProcessorFormatter` is the one formatter of the one handler): `key=value` lines in
development, JSON lines in production. `RequestLogMiddleware` writes the one line per request
and binds the request id to every record written while the request runs.

Why a middleware of our own rather than django-structlog's: that one writes two events per
request (started and finished) and needs a signal receiver to echo the id in a header; this is
the few lines that do exactly what is asked."""

import logging
import re
import time
import uuid

import structlog

logger = structlog.get_logger("bankledger.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# An id a client or proxy sent is kept only if it cannot forge a log line or a header.
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def logging_config(*, json: bool, level: str) -> dict:
    """Configure structlog and return Django's `LOGGING`: every record through one handler,
    Django's own console handlers removed (they printed each 4xx and the autoreloader's banner
    a second time), runserver's access log off (the middleware's line replaces it), and only
    5xx from `django.request` (their tracebacks)."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if json
        else [structlog.dev.ConsoleRenderer(colors=False)]
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": _SHARED,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *renderer,
                ],
            }
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "structured"},
            # Without a handler at all, Python would print warnings through its last resort.
            "discard": {"class": "logging.NullHandler"},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": [], "propagate": True},
            "django.server": {"handlers": ["discard"], "propagate": False},
            "django.request": {"level": "ERROR"},
            "django.db.backends": {"level": "WARNING"},
            # httpx logs every webhook request at INFO; the deliveries' admin keeps them.
            "httpx": {"level": "WARNING"},
        },
    }


def _request_id(request) -> str:
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    return sent if _CLIENT_ID.fullmatch(sent) else uuid.uuid4().hex


def _level(status: int) -> int:
    if status >= 500:
        return logging.ERROR
    return logging.WARNING if status >= 400 else logging.INFO


class RequestLogMiddleware:
    """First in MIDDLEWARE: sees every response, the ones other middleware make included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = _request_id(request)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            user = getattr(request, "user", None)
            logger.log(
                _level(response.status_code),
                "request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                user_id=str(user.pk) if user is not None and user.is_authenticated else None,
            )
            return response
        finally:
            structlog.contextvars.clear_contextvars()

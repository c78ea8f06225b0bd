"""Core Django settings: apps, middleware, templates, static files, logging."""

from pathlib import Path

from bankledger.core.logs import logging_config

from .environment import BASE_DIR, env

DEBUG = env.bool("DEBUG", default=False)
PORT = env.int("PORT", default=2000)
# `make run`'s development system user's password: random per checkout, kept in this file.
DEV_SYSTEM_USER_FILE = env("DEV_SYSTEM_USER_FILE", default=str(BASE_DIR / ".dev-system-user"))

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    # Before Django's admin: its templates (the admin's header and stylesheet) come first.
    "bankledger.adminsite",
    "bankledger.adminsite.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "users",
    "accounts",
    "ledger",
    "transactions",
    "bankledger.mail",
    "bankledger.events",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "bankledger.core.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "users.throttling.RateLimitHeadersMiddleware",
    # For every request: the API's views are exempt, so on /api it costs a flag check.
    "django.middleware.csrf.CsrfViewMiddleware",
    # BROWSER_MIDDLEWARE, for every path outside /api (the admin's pages).
    "bankledger.core.middleware.BrowserOnlyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# The admin's sessions, the session's user and messages; the JSON API uses none of them.
BROWSER_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
# The admin's checks look for those three in MIDDLEWARE; they run, from BROWSER_MIDDLEWARE, for
# every admin page (tests/bankledger/test_middleware_stacks.py, the admin's browser tests).
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]

ROOT_URLCONF = "bankledger.urls"
WSGI_APPLICATION = "bankledger.wsgi.application"
ASGI_APPLICATION = "bankledger.asgi.application"
AUTH_USER_MODEL = "users.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
# Dates and times as the admin shows them: "2026-11-30 14:05:09 UTC".
FORMAT_MODULE_PATH = ["bankledger.adminsite.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Production runs `collectstatic` into STATIC_ROOT and whitenoise serves those (compressed)
# files, indexed once at start. When nobody ran it (make run, the tests), whitenoise serves
# the apps' static files straight from the finders, looked up per request.
_STATIC_COLLECTED = STATIC_ROOT.is_dir()
WHITENOISE_USE_FINDERS = not _STATIC_COLLECTED
WHITENOISE_AUTOREFRESH = not _STATIC_COLLECTED

# Largest request body accepted before it is parsed (API.md: oversized bodies are refused).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024)

# One line per request and one format for every record (bankledger.core.logs): `key=value`
# lines in development, JSON lines in production; LOG_FORMAT=console|json chooses.
LOGGING = logging_config(
    json=env("LOG_FORMAT", default="console" if DEBUG else "json") == "json",
    level=env("LOG_LEVEL", default="INFO"),
)
APPEND_SLASH = False

# The admin's funding page asks for a confirmation before it posts what the same system user
# posted to the same account for the same amount within this many seconds.
ADMIN_REPEAT_WINDOW = env.int("ADMIN_REPEAT_WINDOW", default=10 * 60)

"""Passwords, JWTs and login throttling."""

import hashlib
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from .base import DEBUG
from .environment import env

PASSWORD_HASHERS = [
    # bcrypt over a SHA-256 digest: plain bcrypt refuses passwords over 72 bytes with bcrypt 5.
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("name", "email")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

JWT_SECRET = env("JWT_SECRET", default="")
if not JWT_SECRET:
    if not DEBUG:
        raise ImproperlyConfigured("JWT_SECRET must be set when DEBUG is off.")
    JWT_SECRET = "development-only-secret-never-use-in-production!"
if not DEBUG and len(JWT_SECRET.encode()) < 32:
    raise ImproperlyConfigured("JWT_SECRET must be at least 32 bytes long.")

# Django's own signing key (sessions, admin). Derived from JWT_SECRET when not given, so one
# secret is enough to deploy, but never the same bytes as the JWT key.
SECRET_KEY = env(
    "SECRET_KEY",
    default=hashlib.sha256(b"bankledger-django-secret-key:" + JWT_SECRET.encode()).hexdigest(),
)

JWT_LIFETIME = env.int("JWT_LIFETIME", default=3 * 24 * 3600)

SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SECRET,
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=JWT_LIFETIME),
    "AUTH_TOKEN_CLASSES": ("users.tokens.AccessToken",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

# Name of the cookie that carries the JWT (kept from the original service).
AUTH_COOKIE_NAME = "token"

# Failed logins: after this many failures for one email or one client address within the
# window, further attempts get 429 until the window ends.
LOGIN_FAILURES_PER_EMAIL = env.int("LOGIN_FAILURES_PER_EMAIL", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)

"""JWT authentication from the `Authorization: Bearer` header or the `token` cookie.

simplejwt's `JWTAuthentication` reads only the header; this adds the cookie of the original
service, refuses cookie-authenticated unsafe requests from a foreign `Origin` (API.md), and
asks whether the token was revoked in the same query that loads its user (simplejwt asks in a
query of its own: one round trip and about 0.6 ms of CPU more on every request)."""

import uuid
from dataclasses import dataclass
from functools import cache, lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from users.models import ApiKey
from users.services import API_KEY_PREFIX, api_key_hash, api_key_touch
from users.tokens import AccessToken


class CsrfFailed(PermissionDenied):
    default_detail = "Cross-site request refused: the Origin is not trusted."
    default_code = "csrf_failed"


def origin_is_trusted(request) -> bool:
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return True
    own = f"{request.scheme}://{request.get_host()}"
    return origin == own or origin in settings.CSRF_TRUSTED_ORIGINS


@dataclass(frozen=True)
class _UserQuery:
    """The token's active user and whether the token is on the denylist, in one statement, and
    what turns its row into a user: the columns' converters (a UUID stored as text on SQLite),
    applied as the ORM applies them. A plain cursor: the same lookup through `Manager.raw` spends
    most of its CPU mapping columns to fields on every request, and through the ORM three times
    as much."""

    sql: str
    attnames: list[str]
    converters: list[tuple[int, list, object]]

    @classmethod
    @cache
    def on(cls, vendor: str, alias: str) -> "_UserQuery":
        model = get_user_model()
        connection = connections[alias]
        fields = model._meta.concrete_fields
        table = model._meta.db_table
        columns = ", ".join(f"u.{connection.ops.quote_name(field.column)}" for field in fields)
        sql = (
            f"SELECT {columns}, EXISTS (SELECT 1 FROM {BlacklistedToken._meta.db_table} b"
            f" JOIN {OutstandingToken._meta.db_table} o ON b.token_id = o.id WHERE o.jti = %s)"
            f" FROM {table} u WHERE u.id = %s AND u.is_active"
        )
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(table)
            functions = connection.ops.get_db_converters(column) + field.get_db_converters(
                connection
            )
            if functions:
                converters.append((index, functions, column))
        return cls(sql, [field.attname for field in fields], converters)

    def user(self, alias: str, jti, user_id: uuid.UUID):
        """The user, or None when it is unknown or inactive or the token was revoked."""
        model = get_user_model()
        connection = connections[alias]
        pk = model._meta.pk.get_db_prep_value(user_id, connection)
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [jti, pk])
            row = cursor.fetchone()
        if row is None or row[-1]:
            return None
        values = list(row[:-1])
        for index, functions, column in self.converters:
            for function in functions:
                values[index] = function(values[index], column, connection)
        return model.from_db(alias, self.attnames, values)


class _SignedAccessToken(AccessToken):
    """A revocable access token whose construction checks signature, expiry, type and jti, but
    not the denylist: `TokenAuthentication.get_user` checks that, together with the user."""

    def verify(self) -> None:
        SimpleAccessToken.verify(self)


@lru_cache(maxsize=1024)
def _verified(raw_token: bytes | str) -> _SignedAccessToken:
    """A token whose signature and claims verified, by its exact text. Verifying costs about
    0.4 ms of CPU (PyJWT: base64, JSON, HMAC, claims), and a client sends the same token with
    every request until it expires; the same text verifies the same way under the same key (the
    key is read once per process). A token that fails is not kept (the error propagates)."""
    return _SignedAccessToken(raw_token)


class TokenAuthentication(JWTAuthentication):
    def authenticate(self, request):
        header = self.get_header(request)
        if header is not None:
            raw_token = self.get_raw_token(header)
        else:
            raw_token = request.COOKIES.get(settings.AUTH_COOKIE_NAME) or None
            if raw_token and request.method not in SAFE_METHODS and not origin_is_trusted(request):
                raise CsrfFailed()
        if raw_token is None:
            return None
        validated = self.get_validated_token(raw_token)
        return self.get_user(validated), validated

    def get_validated_token(self, raw_token):
        """The verified token; its expiry is checked again on every use (what the cache keeps
        may expire while kept), its revocation by `get_user`."""
        try:
            token = _verified(raw_token)
            token.check_exp(current_time=aware_utcnow())
        except TokenError as exc:
            raise InvalidToken() from exc
        return token

    def get_user(self, validated_token):
        """The active user the token names, provided the token was not revoked (logout)."""
        try:
            user_id = uuid.UUID(str(validated_token.get(api_settings.USER_ID_CLAIM)))
        except ValueError as exc:
            raise InvalidToken() from exc
        alias = router.db_for_read(self.user_model)
        query = _UserQuery.on(connections[alias].vendor, alias)
        user = query.user(alias, validated_token.get("jti"), user_id)
        if user is None:
            raise AuthenticationFailed("Token revoked, or its user is unknown or inactive.")
        return user

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """The OpenAPI description of `TokenAuthentication`: a JWT as a Bearer header or the cookie."""

    target_class = "users.authentication.TokenAuthentication"
    name = ["bearerAuth", "cookieAuth"]

    def get_security_requirement(self, auto_schema):
        return [{"bearerAuth": []}, {"cookieAuth": []}]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"type": "apiKey", "in": "cookie", "name": settings.AUTH_COOKIE_NAME},
        ]


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer blk_...`: an API key, acting as its user within its scopes
    (`users.permissions.ApiKeyScopes`). Any other Bearer value is left to the JWT class."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            return None
        secret = parts[1].decode("latin-1")
        if not secret.startswith(API_KEY_PREFIX):
            return None
        key = (
            ApiKey.objects.select_related("user")
            .filter(secret_hash=api_key_hash(secret), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if key is None or (key.expires_at is not None and key.expires_at <= timezone.now()):
            raise AuthenticationFailed("API key unknown, revoked or expired.")
        api_key_touch(key=key)
        return key.user, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "users.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "API key (blk_...)"}

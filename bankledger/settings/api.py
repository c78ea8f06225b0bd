"""Django REST Framework and the OpenAPI schema."""

from .environment import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.ApiKeyAuthentication",
        "users.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "users.permissions.ApiKeyScopes",
    ],
    "DEFAULT_PARSER_CLASSES": ["bankledger.core.parsers.DecimalJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "bankledger.core.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "bankledger.core.schema.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # One throttle for every view: per caller, or per client address without credentials
    # (users.throttling). The rates are in settings.RATE_LIMITS (settings/limits.py).
    "DEFAULT_THROTTLE_CLASSES": ["users.throttling.RateLimit"],
    "DEFAULT_THROTTLE_RATES": {},
    # The client address is REMOTE_ADDR: X-Forwarded-For is not trusted (anyone can send it).
    "NUM_PROXIES": 0,
}

# An API key's `lastUsedAt` is written at most this often (seconds), not on every request.
API_KEY_LAST_USED_RESOLUTION = env.int("API_KEY_LAST_USED_RESOLUTION", default=60)
# The longest `expiresIn` of an API key, in seconds (two years).
API_KEY_MAX_LIFETIME = 2 * 365 * 24 * 3600

# The most a single transfer (or initial funding) may move, in minor units, inclusive.
MAX_TRANSFER_MINOR_UNITS = env.int("MAX_TRANSFER_MINOR_UNITS", default=10**13)

SPECTACULAR_SETTINGS = {
    "TITLE": "bankledger API",
    "DESCRIPTION": (
        "A double-entry banking ledger: users, accounts, idempotent transfers, history, "
        "statements, reversals. Amounts are decimal strings in major units; every error is "
        "`{message, code}` (plus `errors` for invalid input)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and Swagger UI are public: a stale `token` cookie must not turn them into 401s.
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api",
    "PREPROCESSING_HOOKS": ["bankledger.core.schema.paths_without_optional_slash"],
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "accounts.models.Account.Status",
        "TransactionStatusEnum": "transactions.models.Transaction.Status",
        "EventTypeEnum": "bankledger.events.types.EVENT_TYPES",
        "ApiKeyScopeEnum": "users.scopes.SCOPES",
    },
}

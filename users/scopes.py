"""API key scopes (API.md "API keys for machine clients") and how a view names the one it
needs: `required_scopes` on the view, a scope for every call or a dict by viewset action or
HTTP method. A view that names none is closed to keys; JWTs are never limited by scopes."""

SCOPES = (
    "accounts:read",
    "accounts:write",
    "transactions:read",
    "transactions:write",
    "holds:write",
    "events:read",
    "webhooks:write",
    "system",
)
# Only a system user's key may carry it; system-only calls need it.
SYSTEM = "system"
# Any valid key may make the call (e.g. `GET /auth/me`).
ANY_SCOPE = "any"
# No key may make the call, whatever its scopes: key management and logout.
JWT_ONLY = "jwt-only"


def required_scope(view, request) -> str:
    scopes = getattr(view, "required_scopes", JWT_ONLY)
    if isinstance(scopes, dict):
        return scopes.get(getattr(view, "action", None)) or scopes.get(request.method, JWT_ONLY)
    return scopes

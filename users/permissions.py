"""Scope enforcement for API keys, a DRF permission in DEFAULT_PERMISSION_CLASSES."""

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from users.models import ApiKey
from users.scopes import ANY_SCOPE, required_scope


class InsufficientScope(PermissionDenied):
    default_detail = "This API key's scopes do not allow this call."
    default_code = "insufficient_scope"


class ApiKeyScopes(BasePermission):
    """A request made with an API key passes only if the key carries the view's scope."""

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        scope = required_scope(view, request)
        if scope == ANY_SCOPE or scope in key.scopes:
            return True
        raise InsufficientScope()

"""JWT authentication from the `Authorization: Bearer` header or the `token` cookie.

simplejwt's `JWTAuthentication` reads only the header; this adds the cookie of the original
service and refuses cookie-authenticated unsafe requests from a foreign `Origin` (API.md)."""

from django.conf import settings
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework_simplejwt.authentication import JWTAuthentication


class CsrfFailed(PermissionDenied):
    default_detail = "Cross-site request refused: the Origin is not trusted."
    default_code = "csrf_failed"


def origin_is_trusted(request) -> bool:
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return True
    own = f"{request.scheme}://{request.get_host()}"
    return origin == own or origin in settings.CSRF_TRUSTED_ORIGINS


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

    def authenticate_header(self, request):
        return 'Bearer realm="api"'

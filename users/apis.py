from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from bankledger.core.schema import error_response
from users.cookies import clear_token_cookie, set_token_cookie
from users.passwords import password_min_length, password_rules
from users.services import token_issue, token_revoke, user_create, user_login

_EXAMPLE_USER = {"email": "ana.lima@example.com", "password": "violet-harbor-lantern-42"}


def _example(name: str, value: dict) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True)


@extend_schema_field(
    {
        "type": "string",
        "format": "password",
        "minLength": password_min_length(),
        "maxLength": 512,
        # Not entirely numeric, and no NUL (which no text field accepts).
        "pattern": "^[^\\u0000]*[^\\d\\u0000][^\\u0000]*$",
        "description": " ".join(password_rules()),
    }
)
class NewPasswordField(serializers.CharField):
    """A new password as sent; `user_create` checks it against Django's validators, and the
    schema states those validators' own rules, so the two cannot drift apart."""

    def __init__(self, **kwargs):
        super().__init__(max_length=512, trim_whitespace=False, **kwargs)


class UserOutputSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    name = serializers.CharField()
    email = serializers.EmailField()


class AuthOutputSerializer(serializers.Serializer):
    user = UserOutputSerializer()
    token = serializers.CharField()


def _authenticated_response(user, http_status: int) -> Response:
    token = token_issue(user=user)
    response = Response(AuthOutputSerializer({"user": user, "token": token}).data, http_status)
    set_token_cookie(response, token)
    return response


# Register and log in are open to anyone; a stale `token` cookie must not turn them into 401s.
_OPEN = {"authentication_classes": [], "permission_classes": [AllowAny]}


class UserViewSet(viewsets.ViewSet):
    """`/api/auth`: register, log in, log out, and who the caller is."""

    # Which rate limit applies (users.throttling): the register action sets "register".
    throttle_scope = None

    @extend_schema_serializer(
        examples=[_example("new user", {"name": "Ana Lima", **_EXAMPLE_USER})]
    )
    class RegisterInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=150)
        email = serializers.EmailField(max_length=254)
        password = NewPasswordField()

    @extend_schema_serializer(examples=[_example("registered user", _EXAMPLE_USER)])
    class LoginInputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=512, trim_whitespace=False)

    class LogoutOutputSerializer(serializers.Serializer):
        message = serializers.CharField()

    class MeOutputSerializer(serializers.Serializer):
        _id = serializers.UUIDField(source="id")
        name = serializers.CharField()
        email = serializers.EmailField()
        systemUser = serializers.BooleanField(source="is_system")

    @extend_schema(
        request=RegisterInputSerializer,
        responses={
            201: AuthOutputSerializer,
            422: error_response("`email_taken` (with `status: failed`)."),
        },
    )
    # RATE_LIMIT_REGISTER per client address instead of the writes limit.
    @action(detail=False, methods=["post"], throttle_scope="register", **_OPEN)
    def register(self, request):
        data = self.RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_create(**data.validated_data)
        return _authenticated_response(user, status.HTTP_201_CREATED)

    @extend_schema(
        request=LoginInputSerializer,
        responses={
            200: AuthOutputSerializer,
            401: error_response("`invalid_credentials`: Email or password is INVALID."),
            429: error_response("`too_many_attempts`, with `Retry-After`."),
        },
    )
    @action(detail=False, methods=["post"], **_OPEN)
    def login(self, request):
        data = self.LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_login(**data.validated_data, client_address=request.META.get("REMOTE_ADDR", ""))
        return _authenticated_response(user, status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: LogoutOutputSerializer})
    @action(detail=False, methods=["post"])
    def logout(self, request):
        token_revoke(token=request.auth)
        response = Response(
            self.LogoutOutputSerializer({"message": "User logged out successfully"}).data
        )
        clear_token_cookie(response)
        return response

    @extend_schema(responses={200: MeOutputSerializer})
    @action(detail=False)
    def me(self, request):
        """The caller. The one response that shows `systemUser`, so a client can tell."""
        return Response(self.MeOutputSerializer(request.user).data)

from django.conf import settings
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
from users.scopes import ANY_SCOPE, JWT_ONLY, SCOPES
from users.selectors import api_key_list
from users.services import (
    api_key_create,
    api_key_revoke,
    token_issue,
    token_revoke,
    user_create,
    user_login,
)

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
    """`/api/auth`: register, log in, log out, and who the caller is. A key is revoked with
    `DELETE /auth/keys/:id`, never logged out."""

    required_scopes = {"logout": JWT_ONLY, "me": ANY_SCOPE}

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


class ApiKeyOutputSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The secret's first characters, to tell keys apart.")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=SCOPES))
    createdAt = serializers.DateTimeField(source="created_at")
    expiresAt = serializers.DateTimeField(source="expires_at", allow_null=True)
    lastUsedAt = serializers.DateTimeField(source="last_used_at", allow_null=True)


class ApiKeyViewSet(viewsets.ViewSet):
    """The caller's API keys. JWT only: a key can neither mint, list nor revoke keys."""

    lookup_url_kwarg = "key_id"
    required_scopes = JWT_ONLY

    @extend_schema_serializer(
        examples=[
            _example(
                "billing service",
                {
                    "name": "billing service",
                    "scopes": ["transactions:read", "transactions:write"],
                    "expiresIn": 7776000,
                },
            )
        ]
    )
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=SCOPES), min_length=1, max_length=len(SCOPES)
        )
        expiresIn = serializers.IntegerField(
            required=False,
            min_value=60,
            max_value=settings.API_KEY_MAX_LIFETIME,
            help_text="Seconds until the key stops working; default: never.",
        )

    class CreatedSerializer(serializers.Serializer):
        key = ApiKeyOutputSerializer()
        secret = serializers.CharField(help_text="`blk_...`: shown only in this answer.")

    @extend_schema_serializer(many=False)  # an envelope, though the action is `list`
    class ListSerializer(serializers.Serializer):
        keys = ApiKeyOutputSerializer(many=True)

    @extend_schema(
        request=InputSerializer,
        responses={201: CreatedSerializer, 403: error_response("`insufficient_scope`: a key.")},
    )
    def create(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, secret = api_key_create(
            user=request.user,
            name=data.validated_data["name"],
            scopes=data.validated_data["scopes"],
            expires_in=data.validated_data.get("expiresIn"),
        )
        return Response(self.CreatedSerializer({"key": key, "secret": secret}).data, 201)

    @extend_schema(operation_id="auth_keys_list", responses={200: ListSerializer})
    def list(self, request):
        return Response(self.ListSerializer({"keys": api_key_list(user=request.user)}).data)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, key_id: str):
        api_key_revoke(user=request.user, key_id=key_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

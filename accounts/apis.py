from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.selectors import account_list
from accounts.serializers import AccountOutputSerializer
from accounts.services import account_close, account_create, account_freeze, account_unfreeze
from bankledger.core.money import DEFAULT_CURRENCY, currency_codes
from bankledger.core.schema import error_response
from users.scopes import SYSTEM


@extend_schema_field(
    {
        "type": "string",
        "enum": list(currency_codes()),
        "default": DEFAULT_CURRENCY,
        "example": "EUR",
        "description": "ISO 4217; any case is accepted and stored upper case (`eur` -> `EUR`).",
    }
)
class CurrencyField(serializers.CharField):
    """A currency code as sent; `account_create` normalises and checks it (and suggests close
    codes), so the admin and the commands get the same rule."""

    def __init__(self, **kwargs):
        super().__init__(max_length=3, **kwargs)


@extend_schema_serializer(
    examples=[OpenApiExample("reason", value={"reason": "Customer request"}, request_only=True)]
)
class AccountStatusChangeInput(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=1000,
        help_text="Kept in the audit.",
    )


class AccountStatusOutput(serializers.Serializer):
    account = AccountOutputSerializer()


def _status_change(service, request, account_id: str) -> Response:
    data = AccountStatusChangeInput(data=request.data)
    data.is_valid(raise_exception=True)
    account = service(account_id=account_id, actor=request.user, **data.validated_data)
    return Response(AccountStatusOutput({"account": account}).data)


class AccountViewSet(viewsets.ViewSet):
    """`/api/accounts`: open and list the caller's accounts; freeze, unfreeze and close one."""

    lookup_url_kwarg = "account_id"
    required_scopes = {
        "create": "accounts:write",
        "list": "accounts:read",
        "freeze": SYSTEM,
        "unfreeze": SYSTEM,
        "close": "accounts:write",
    }

    @extend_schema_serializer(
        examples=[OpenApiExample("euro", value={"currency": "EUR"}, request_only=True)]
    )
    class CreateInputSerializer(serializers.Serializer):
        currency = CurrencyField(required=False)

    class CreateOutputSerializer(serializers.Serializer):
        account = AccountOutputSerializer()

    @extend_schema_serializer(many=False)  # an envelope, though the action is `list`
    class ListOutputSerializer(serializers.Serializer):
        accounts = AccountOutputSerializer(many=True)

    @extend_schema(request=CreateInputSerializer, responses={201: CreateOutputSerializer})
    def create(self, request):
        data = self.CreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = account_create(user=request.user, **data.validated_data)
        return Response(
            self.CreateOutputSerializer({"account": account}).data, status.HTTP_201_CREATED
        )

    @extend_schema(responses={200: ListOutputSerializer})
    def list(self, request):
        accounts = account_list(user=request.user)
        return Response(self.ListOutputSerializer({"accounts": accounts}).data)

    @extend_schema(
        request=AccountStatusChangeInput,
        responses={200: AccountStatusOutput, 400: error_response("`account_closed`.")},
    )
    @action(detail=True, methods=["post"])
    def freeze(self, request, account_id: str):
        """A frozen account neither sends nor receives. System users only."""
        return _status_change(account_freeze, request, account_id)

    @extend_schema(
        request=AccountStatusChangeInput,
        responses={200: AccountStatusOutput, 400: error_response("`account_closed`.")},
    )
    @action(detail=True, methods=["post"])
    def unfreeze(self, request, account_id: str):
        """A frozen account becomes ACTIVE again. System users only."""
        return _status_change(account_unfreeze, request, account_id)

    @extend_schema(
        request=AccountStatusChangeInput,
        responses={
            200: AccountStatusOutput,
            400: error_response(
                "`account_not_empty`, `account_frozen` (owner), `funding_account_not_closable`."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def close(self, request, account_id: str):
        """Closed for good, at a zero balance. The owner (unless frozen) or a system user."""
        return _status_change(account_close, request, account_id)

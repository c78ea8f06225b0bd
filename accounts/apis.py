from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Account
from accounts.selectors import account_list
from accounts.services import account_close, account_create, account_freeze, account_unfreeze
from bankledger.core.schema import error_response


class AccountOutputSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    user = serializers.UUIDField(source="user_id")
    status = serializers.ChoiceField(choices=Account.Status.choices)
    currency = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


# `/api/accounts` answers both POST and GET, so the two views are combined in urls.py and
# each method names its own serializers explicitly.


class AccountCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        currency = serializers.CharField(max_length=3, required=False)

    class OutputSerializer(serializers.Serializer):
        account = AccountOutputSerializer()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = AccountCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = account_create(user=request.user, **data.validated_data)
        output = AccountCreateApi.OutputSerializer({"account": account})
        return Response(output.data, status.HTTP_201_CREATED)


class AccountListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        accounts = AccountOutputSerializer(many=True)

    @extend_schema(operation_id="accounts_list", responses={200: OutputSerializer})
    def get(self, request):
        accounts = account_list(user=request.user)
        return Response(AccountListApi.OutputSerializer({"accounts": accounts}).data)


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


class AccountFreezeApi(APIView):
    @extend_schema(
        request=AccountStatusChangeInput,
        responses={200: AccountStatusOutput, 400: error_response("`account_closed`.")},
    )
    def post(self, request, account_id: str):
        """A frozen account neither sends nor receives. System users only."""
        return _status_change(account_freeze, request, account_id)


class AccountUnfreezeApi(APIView):
    @extend_schema(
        request=AccountStatusChangeInput,
        responses={200: AccountStatusOutput, 400: error_response("`account_closed`.")},
    )
    def post(self, request, account_id: str):
        """A frozen account becomes ACTIVE again. System users only."""
        return _status_change(account_unfreeze, request, account_id)


class AccountCloseApi(APIView):
    @extend_schema(
        request=AccountStatusChangeInput,
        responses={
            200: AccountStatusOutput,
            400: error_response(
                "`account_not_empty`, `account_frozen` (owner), `funding_account_not_closable`."
            ),
        },
    )
    def post(self, request, account_id: str):
        """Closed for good, at a zero balance. The owner (unless frozen) or a system user."""
        return _status_change(account_close, request, account_id)

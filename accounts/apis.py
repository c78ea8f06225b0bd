from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import account_get_owned, account_list
from accounts.services import account_create
from bankledger.money import format_minor_units


class AccountOutputSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    user = serializers.UUIDField(source="user_id")
    status = serializers.CharField()
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

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        accounts = account_list(user=request.user)
        return Response(AccountListApi.OutputSerializer({"accounts": accounts}).data)


class AccountBalanceApi(APIView):
    class OutputSerializer(serializers.Serializer):
        accountId = serializers.UUIDField()
        balance = serializers.CharField()
        currency = serializers.CharField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request, account_id: str):
        account = account_get_owned(user=request.user, account_id=account_id)
        return Response(
            {
                "accountId": str(account.id),
                "balance": format_minor_units(account.balance, account.currency),
                "currency": account.currency,
            }
        )

"""`/api/holds`: reserve money for a payee, then capture, void or let it expire (API.md
"Holds")."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bankledger.core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from bankledger.core.schema import ErrorSerializer, error_response
from ledger.exceptions import TransferRefused
from ledger.models import MAX_EXPIRES_IN, MIN_EXPIRES_IN, Hold
from transactions.apis import (
    EXAMPLE_PAYEE,
    EXAMPLE_PAYER,
    AccountIdField,
    AmountField,
    IdempotencyKeyInput,
    IdempotentWriteInput,
    request_example,
    validated_input,
)
from transactions.hold_selectors import hold_get, hold_list
from transactions.hold_services import (
    DEFAULT_EXPIRES_IN,
    hold_capture,
    hold_create,
    hold_void_by,
)
from transactions.serializers import (
    HOLD_OUTPUT,
    TRANSACTION_OUTPUT,
    HoldOutputSerializer,
    TransactionOutputSerializer,
)


class HoldResultSerializer(serializers.Serializer):
    message = serializers.CharField()
    hold = HoldOutputSerializer()


class CaptureResultSerializer(HoldResultSerializer):
    transaction = TransactionOutputSerializer()


class HoldRefusalSerializer(ErrorSerializer):
    hold = HoldOutputSerializer(required=False, help_text="The FAILED hold, when recorded.")
    transaction = TransactionOutputSerializer(
        required=False, help_text="The FAILED capture, when a capture was refused."
    )
    remaining = serializers.CharField(
        required=False, help_text="`limit_exceeded`: what the daily limit still allows."
    )


_CONFLICT = error_response("`idempotency_key_reused`: the key was used with a different body.")
_NOT_FOUND = error_response("`hold_not_found`: unknown, or not one the caller may see.")


def _refused(refusal: TransferRefused) -> None:
    """Add the recorded row to a refusal's body."""
    if refusal.hold is not None:
        refusal.extra["hold"] = HOLD_OUTPUT.to_representation(refusal.hold)
    if refusal.transaction is not None:
        refusal.extra["transaction"] = TRANSACTION_OUTPUT.to_representation(refusal.transaction)


class HoldViewSet(viewsets.ViewSet):
    """Create, list and read holds; capture or void one."""

    lookup_url_kwarg = "hold_id"
    required_scopes = {
        "create": "holds:write",
        "capture": "holds:write",
        "void": "holds:write",
        "list": "transactions:read",
        "retrieve": "transactions:read",
    }

    @extend_schema_serializer(
        component_name="HoldCreateInput",
        examples=[
            request_example(
                "authorize",
                {
                    "fromAccount": EXAMPLE_PAYER,
                    "toAccount": EXAMPLE_PAYEE,
                    "amount": "250.00",
                    "idempotencyKey": "auth-1042",
                    "expiresIn": 86400,
                    "reference": "order-1042",
                },
            )
        ],
    )
    class CreateInputSerializer(IdempotentWriteInput):
        fromAccount = AccountIdField()
        toAccount = AccountIdField()
        expiresIn = serializers.IntegerField(
            required=False,
            min_value=MIN_EXPIRES_IN,
            max_value=MAX_EXPIRES_IN,
            default=DEFAULT_EXPIRES_IN,
            help_text="Seconds until the hold expires (1 to 30 days; default 7 days).",
        )

    @extend_schema_serializer(
        component_name="HoldCaptureInput",
        examples=[request_example("partial", {"idempotencyKey": "cap-1042", "amount": "200.00"})],
    )
    class CaptureInputSerializer(IdempotencyKeyInput):
        amount = AmountField(required=False, help_text="Default: the whole hold.")

    @extend_schema_serializer(
        component_name="HoldVoidInput",
        examples=[request_example("release", {"idempotencyKey": "void-1042"})],
    )
    class VoidInputSerializer(IdempotencyKeyInput):
        pass

    class ListFilterSerializer(serializers.Serializer):
        account = serializers.CharField(
            required=False, max_length=64, help_text="Only holds on it (either side)."
        )
        status = serializers.ChoiceField(choices=Hold.Status.choices, required=False)
        cursor = serializers.RegexField(r"^[A-Za-z0-9_-]+$", required=False, max_length=200)
        limit = serializers.IntegerField(
            required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
        )

    @extend_schema_serializer(many=False)  # an envelope, though the action is `list`
    class ListOutputSerializer(serializers.Serializer):
        holds = HoldOutputSerializer(many=True)
        nextCursor = serializers.CharField(allow_null=True)

    class DetailOutputSerializer(serializers.Serializer):
        hold = HoldOutputSerializer()

    @extend_schema(
        request=CreateInputSerializer,
        responses={
            201: HoldResultSerializer,
            200: HoldResultSerializer,
            400: HoldRefusalSerializer,
            403: error_response("`forbidden_account`: fromAccount is not yours."),
            409: _CONFLICT,
        },
    )
    def create(self, request):
        data = validated_input(self.CreateInputSerializer, request)
        try:
            result = hold_create(
                initiator=request.user,
                from_account_id=data["fromAccount"],
                to_account_id=data["toAccount"],
                amount=data["amount"],
                idempotency_key=data["idempotencyKey"],
                expires_in=data["expiresIn"],
                reference=data.get("reference"),
                metadata=data.get("metadata"),
            )
        except TransferRefused as refusal:
            _refused(refusal)
            raise
        message, code = (
            ("Hold already processed", status.HTTP_200_OK)
            if result.replayed
            else ("Hold created", status.HTTP_201_CREATED)
        )
        return Response(
            {"message": message, "hold": HOLD_OUTPUT.to_representation(result.hold)}, code
        )

    @extend_schema(
        request=CaptureInputSerializer,
        responses={
            201: CaptureResultSerializer,
            200: CaptureResultSerializer,
            400: HoldRefusalSerializer,
            404: _NOT_FOUND,
            409: _CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def capture(self, request, hold_id: str):
        data = validated_input(self.CaptureInputSerializer, request)
        try:
            result = hold_capture(
                initiator=request.user,
                hold_id=hold_id,
                idempotency_key=data["idempotencyKey"],
                amount=data.get("amount"),
            )
        except TransferRefused as refusal:
            _refused(refusal)
            raise
        posted = result.transaction
        hold = Hold.objects.get(id=posted.hold_id)
        message, code = (
            ("Hold already captured", status.HTTP_200_OK)
            if result.replayed
            else ("Hold captured", status.HTTP_201_CREATED)
        )
        body = {
            "message": message,
            "hold": HOLD_OUTPUT.to_representation(hold),
            "transaction": TRANSACTION_OUTPUT.to_representation(posted),
        }
        return Response(body, code)

    @extend_schema(
        request=VoidInputSerializer,
        responses={
            200: HoldResultSerializer,
            400: HoldRefusalSerializer,
            403: error_response("`not_allowed`: only the payee's owner or a system user."),
            404: _NOT_FOUND,
            409: _CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def void(self, request, hold_id: str):
        data = validated_input(self.VoidInputSerializer, request)
        hold, _replayed = hold_void_by(
            initiator=request.user, hold_id=hold_id, idempotency_key=data["idempotencyKey"]
        )
        return Response({"message": "Hold voided", "hold": HOLD_OUTPUT.to_representation(hold)})

    @extend_schema(
        parameters=[ListFilterSerializer],
        responses={
            200: ListOutputSerializer,
            400: ErrorSerializer,
            404: error_response("`account` is unknown or not the caller's."),
        },
    )
    def list(self, request):
        filters = self.ListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        page = hold_list(
            user=request.user,
            account_id=data.get("account"),
            status=data.get("status"),
            cursor=data.get("cursor"),
            limit=data["limit"],
        )
        return Response(
            self.ListOutputSerializer({"holds": page.items, "nextCursor": page.next_cursor}).data
        )

    @extend_schema(responses={200: DetailOutputSerializer, 404: _NOT_FOUND})
    def retrieve(self, request, hold_id: str):
        hold = hold_get(user=request.user, hold_id=hold_id)
        return Response(self.DetailOutputSerializer({"hold": hold}).data)

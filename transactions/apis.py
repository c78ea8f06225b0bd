from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from bankledger.money import format_minor_units, parse_amount
from transactions.exceptions import IdempotencyKeyMismatch, TransferRefused
from transactions.models import Transaction
from transactions.services import initial_funds_create, transfer_create


class AmountField(serializers.Field):
    """A positive amount in major units: a JSON number or a plain decimal string."""

    default_error_messages = {
        "invalid": (
            'Enter a positive amount as a plain decimal number or string, e.g. 500 or "500.50".'
        )
    }

    def to_internal_value(self, data):
        amount = parse_amount(data)
        if amount is None or amount <= 0:
            self.fail("invalid")
        return amount

    def to_representation(self, value):
        return str(value)


class TransactionOutputSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    fromAccount = serializers.UUIDField(source="from_account_id")
    toAccount = serializers.UUIDField(source="to_account_id")
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    status = serializers.CharField()
    kind = serializers.CharField()
    idempotencyKey = serializers.CharField(source="idempotency_key")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    def get_amount(self, obj: Transaction) -> str:
        return format_minor_units(obj.amount, obj.currency)


class TransactionResultSerializer(serializers.Serializer):
    message = serializers.CharField()
    transaction = TransactionOutputSerializer()


_REPLAY_MESSAGES = {
    Transaction.Status.COMPLETED: "Transaction already processed",
    Transaction.Status.REVERSED: "Transaction was reversed",
}


class IdempotentWriteInput(serializers.Serializer):
    """The key comes as `idempotencyKey` or as the `Idempotency-Key` header (both: must match)."""

    idempotencyKey = serializers.CharField(max_length=255, trim_whitespace=False, required=False)
    amount = AmountField()

    def __init__(self, *args, header_key: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.header_key = header_key

    def validate(self, attrs):
        body_key = attrs.get("idempotencyKey")
        if body_key is not None and self.header_key is not None and body_key != self.header_key:
            raise IdempotencyKeyMismatch()
        key = body_key if body_key is not None else self.header_key
        if not key or len(key) > 255:
            raise serializers.ValidationError(
                {"idempotencyKey": ["A non-empty key of at most 255 characters is required."]}
            )
        attrs["idempotencyKey"] = key
        return attrs


def _validated(serializer_class, request) -> dict:
    data = serializer_class(data=request.data, header_key=request.headers.get("Idempotency-Key"))
    data.is_valid(raise_exception=True)
    return data.validated_data


def _respond(create, success_message: str) -> Response:
    """Run a money-moving service and answer as API.md says: 201 for a new transaction, 200
    for a replay, 400 with the FAILED transaction for a recorded refusal."""
    try:
        result = create()
    except TransferRefused as refusal:
        refusal.extra["transaction"] = TransactionOutputSerializer(refusal.transaction).data
        raise
    if result.replayed:
        message, http_status = _REPLAY_MESSAGES[result.transaction.status], status.HTTP_200_OK
    else:
        message, http_status = success_message, status.HTTP_201_CREATED
    body = {"message": message, "transaction": result.transaction}
    return Response(TransactionResultSerializer(body).data, http_status)


class TransactionCreateApi(APIView):
    class InputSerializer(IdempotentWriteInput):
        fromAccount = serializers.CharField(max_length=64)
        toAccount = serializers.CharField(max_length=64)

    @extend_schema(request=InputSerializer, responses={201: TransactionResultSerializer})
    def post(self, request):
        data = _validated(self.InputSerializer, request)
        return _respond(
            lambda: transfer_create(
                initiator=request.user,
                from_account_id=data["fromAccount"],
                to_account_id=data["toAccount"],
                amount=data["amount"],
                idempotency_key=data["idempotencyKey"],
            ),
            "Transaction completed successfully",
        )


class InitialFundsCreateApi(APIView):
    class InputSerializer(IdempotentWriteInput):
        toAccount = serializers.CharField(max_length=64)

    @extend_schema(request=InputSerializer, responses={201: TransactionResultSerializer})
    def post(self, request):
        data = _validated(self.InputSerializer, request)
        return _respond(
            lambda: initial_funds_create(
                initiator=request.user,
                to_account_id=data["toAccount"],
                amount=data["amount"],
                idempotency_key=data["idempotencyKey"],
            ),
            "Initial Funds Transaction Completed Successfully.",
        )

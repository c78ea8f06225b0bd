import copy

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import empty
from rest_framework.response import Response

from bankledger.core.annotations import METADATA_MAX_ENTRIES, MetadataField, ReferenceField
from bankledger.core.money import AMOUNT_FORMAT, parse_amount
from bankledger.core.pagination import TimeRangePageFilter
from bankledger.core.schema import ErrorSerializer, error_response
from ledger.exceptions import TransferRefused
from transactions.exceptions import IdempotencyKeyMismatch
from transactions.models import Transaction
from transactions.selectors import transaction_get, transaction_list
from transactions.serializers import TRANSACTION_OUTPUT, TransactionOutputSerializer
from transactions.services import initial_funds_create, transaction_reverse, transfer_create
from users.scopes import SYSTEM

# A positive decimal with at most 13 integer digits and 4 decimals (the most any currency has).
_AMOUNT_PATTERN = (
    r"^([1-9][0-9]{0,12}(\.[0-9]{1,4})?"
    r"|0\.([1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$"
)


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "number",
                "minimum": 0,
                "exclusiveMinimum": True,
                "maximum": 10**13,
                "multipleOf": 0.0001,
            },
            {"type": "string", "pattern": _AMOUNT_PATTERN, "maxLength": 40},
        ],
        "example": "500.50",
        "description": (
            "Major units, as a JSON number or a decimal string: no sign, exponent or spaces, "
            "at most as many decimals as the currency has (INR: 2, JPY: 0), and at most "
            "MAX_TRANSFER_MINOR_UNITS minor units (10^13 by default)."
        ),
    }
)
class AmountField(serializers.Field):
    """A positive amount in major units: a JSON number or a plain decimal string."""

    default_error_messages = {"invalid": f"Enter {AMOUNT_FORMAT}."}

    def to_internal_value(self, data):
        amount = parse_amount(data)
        if amount is None:
            self.fail("invalid")
        return amount

    def to_representation(self, value):
        return str(value)


@extend_schema_field({"type": "string", "format": "uuid", "maxLength": 64})
class AccountIdField(serializers.CharField):
    """An account's `_id`. Any string is accepted: a malformed id is answered like an unknown
    one (API.md), by the service."""

    def __init__(self, **kwargs):
        super().__init__(max_length=64, **kwargs)


# Realistic request bodies for the schema's examples (Swagger's "Try it out" starts from them);
# tests/bankledger/test_schema_examples.py sends each one.
EXAMPLE_PAYER = "3f1c2a4e-8b7d-4e6f-9a1b-2c3d4e5f6a7b"
EXAMPLE_PAYEE = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def request_example(name: str, value: dict) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True)


class TransactionResultSerializer(serializers.Serializer):
    message = serializers.CharField()
    transaction = TransactionOutputSerializer()


class RefusalSerializer(ErrorSerializer):
    transaction = TransactionOutputSerializer(
        required=False, help_text="The FAILED transaction, when the refusal was recorded."
    )


# What every money-moving write may answer besides 201, in the OpenAPI schema.
_WRITE_RESPONSES = {
    200: TransactionResultSerializer,
    400: RefusalSerializer,
    409: error_response(
        "`idempotency_key_reused`: the key was used with a different body; "
        "`idempotency_in_progress`: the first request with this key is still running."
    ),
}


_REPLAY_MESSAGES = {
    Transaction.Status.COMPLETED: "Transaction already processed",
    Transaction.Status.REVERSED: "Transaction was reversed",
}


class IdempotencyKeyField(serializers.CharField):
    """The key from the body's `idempotencyKey`, or else from the `Idempotency-Key` header (both
    sent and different: 400 `idempotency_key_mismatch`). Required from one of the two: the schema
    states it as required in the body, which every client may do; as a field, a missing or
    invalid key is reported together with every other invalid field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Or send it as the `Idempotency-Key` header.")
        super().__init__(max_length=255, trim_whitespace=False, **kwargs)

    def get_value(self, dictionary):
        body_key = super().get_value(dictionary)
        header_key = self.parent.header_key
        if header_key is None:
            return body_key
        if body_key is empty:
            return header_key
        if isinstance(body_key, str) and body_key != header_key:
            raise IdempotencyKeyMismatch()
        return body_key


class IdempotencyKeyInput(serializers.Serializer):
    """The key comes as `idempotencyKey` or as the `Idempotency-Key` header (both: must match)."""

    idempotencyKey = IdempotencyKeyField()

    def __init__(self, *args, header_key: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.header_key = header_key


class IdempotentWriteInput(IdempotencyKeyInput):
    """A money-moving write's input: flat fields only (no nested serializer, no child field)."""

    amount = AmountField()
    reference = ReferenceField()
    metadata = MetadataField()

    def get_fields(self):
        """Each instance's own copies of the declared fields, as DRF gives, but shallow:
        DRF's deep copy builds every field again from its arguments (0.048 ms of CPU for a
        transfer's input, 0.024 this way; the request is about 1 ms). A flat field's copy
        shares only what validating never changes (its validators, messages and arguments);
        binding sets the copy's own name and parent. tests/transactions/test_input_fields.py
        holds every subclass to flat fields."""
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


def validated_input(serializer_class, request) -> dict:
    data = serializer_class(data=request.data, header_key=request.headers.get("Idempotency-Key"))
    data.is_valid(raise_exception=True)
    return data.validated_data


def _respond(create, success_message: str) -> Response:
    """Run a money-moving service and answer as API.md says: 201 for a new transaction, 200
    for a replay, 400 with the FAILED transaction for a recorded refusal."""
    try:
        result = create()
    except TransferRefused as refusal:
        refusal.extra["transaction"] = TRANSACTION_OUTPUT.to_representation(refusal.transaction)
        raise
    if result.replayed:
        message, http_status = _REPLAY_MESSAGES[result.transaction.status], status.HTTP_200_OK
    else:
        message, http_status = success_message, status.HTTP_201_CREATED
    body = {
        "message": message,
        "transaction": TRANSACTION_OUTPUT.to_representation(result.transaction),
    }
    return Response(body, http_status)


def _metadata_filters(params) -> list[tuple[str, str]]:
    """`metadata.KEY=VALUE` query parameters as (key, value) pairs, held to the limits of
    metadata itself (API.md): 400 `invalid_input` outside them."""
    pairs = [
        (name.removeprefix("metadata."), value)
        for name in params
        if name.startswith("metadata.")
        for value in params.getlist(name)
    ]
    field = MetadataField()
    for key, value in pairs:
        try:
            field.run_validation({key: value})
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({f"metadata.{key}": exc.detail}) from exc
    if len(pairs) > METADATA_MAX_ENTRIES:
        raise serializers.ValidationError(
            {"metadata": [f"At most {METADATA_MAX_ENTRIES} metadata filters."]}
        )
    return pairs


class TransactionViewSet(viewsets.ViewSet):
    """`/api/transactions`: transfer, history, one transaction, and its reversal."""

    lookup_url_kwarg = "transaction_id"
    required_scopes = {
        "create": "transactions:write",
        "list": "transactions:read",
        "retrieve": "transactions:read",
        "reverse": SYSTEM,
    }

    @extend_schema_serializer(
        examples=[
            request_example(
                "transfer",
                {
                    "fromAccount": EXAMPLE_PAYER,
                    "toAccount": EXAMPLE_PAYEE,
                    "amount": "500.50",
                    "idempotencyKey": "order-1042",
                },
            )
        ]
    )
    class CreateInputSerializer(IdempotentWriteInput):
        fromAccount = AccountIdField()
        toAccount = AccountIdField()

    class ListFilterSerializer(TimeRangePageFilter):
        account = serializers.CharField(
            required=False, max_length=64, help_text="Only transactions into or out of it."
        )
        status = serializers.ChoiceField(choices=Transaction.Status.choices, required=False)
        reference = serializers.CharField(
            required=False, max_length=128, help_text="Only transactions with this reference."
        )

    @extend_schema_serializer(many=False)  # an envelope, though the action is `list`
    class ListOutputSerializer(serializers.Serializer):
        transactions = TransactionOutputSerializer(many=True)
        nextCursor = serializers.CharField(
            allow_null=True, help_text="Pass as `cursor` for the next page; null on the last."
        )

    class DetailOutputSerializer(serializers.Serializer):
        transaction = TransactionOutputSerializer()

    @extend_schema_serializer(
        examples=[
            request_example(
                "refund", {"idempotencyKey": "refund-1042", "reason": "Customer refund"}
            )
        ]
    )
    class ReverseInputSerializer(IdempotencyKeyInput):
        reason = serializers.CharField(max_length=255, help_text="Why, kept on the reversal.")

    @extend_schema(
        request=CreateInputSerializer,
        responses={201: TransactionResultSerializer, **_WRITE_RESPONSES},
    )
    def create(self, request):
        data = validated_input(self.CreateInputSerializer, request)
        return _respond(
            lambda: transfer_create(
                initiator=request.user,
                from_account_id=data["fromAccount"],
                to_account_id=data["toAccount"],
                amount=data["amount"],
                idempotency_key=data["idempotencyKey"],
                reference=data.get("reference"),
                metadata=data.get("metadata"),
            ),
            "Transaction completed successfully",
        )

    @extend_schema(
        parameters=[
            ListFilterSerializer,
            OpenApiParameter(
                "metadata.KEY",
                str,
                description="Only transactions whose metadata has KEY equal to this value; "
                "repeatable with other keys (all must match).",
            ),
        ],
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
        page = transaction_list(
            user=request.user,
            account_id=data.get("account"),
            status=data.get("status"),
            reference=data.get("reference"),
            metadata=_metadata_filters(request.query_params),
            since=data.get("since"),
            until=data.get("until"),
            cursor=data.get("cursor"),
            limit=data["limit"],
        )
        output = {"transactions": page.items, "nextCursor": page.next_cursor}
        return Response(self.ListOutputSerializer(output).data)

    @extend_schema(responses={200: DetailOutputSerializer})
    def retrieve(self, request, transaction_id: str):
        found = transaction_get(user=request.user, transaction_id=transaction_id)
        return Response(self.DetailOutputSerializer({"transaction": found}).data)

    @extend_schema(
        request=ReverseInputSerializer,
        responses={201: TransactionResultSerializer, **_WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request, transaction_id: str):
        data = validated_input(self.ReverseInputSerializer, request)
        return _respond(
            lambda: transaction_reverse(
                initiator=request.user,
                transaction_id=transaction_id,
                idempotency_key=data["idempotencyKey"],
                reason=data["reason"],
            ),
            "Transaction reversed successfully",
        )


class InitialFundsViewSet(viewsets.ViewSet):
    """`/api/transactions/system/initial-funds`: a system user seeds an account."""

    required_scopes = SYSTEM

    @extend_schema_serializer(
        examples=[
            request_example(
                "seed",
                {"toAccount": EXAMPLE_PAYEE, "amount": "1000.00", "idempotencyKey": "seed-1"},
            )
        ]
    )
    class CreateInputSerializer(IdempotentWriteInput):
        toAccount = AccountIdField()

    @extend_schema(
        request=CreateInputSerializer,
        responses={201: TransactionResultSerializer, **_WRITE_RESPONSES},
    )
    def create(self, request):
        data = validated_input(self.CreateInputSerializer, request)
        return _respond(
            lambda: initial_funds_create(
                initiator=request.user,
                to_account_id=data["toAccount"],
                amount=data["amount"],
                idempotency_key=data["idempotencyKey"],
                reference=data.get("reference"),
                metadata=data.get("metadata"),
            ),
            "Initial Funds Transaction Completed Successfully.",
        )

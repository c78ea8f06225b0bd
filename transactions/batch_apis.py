"""`POST /transactions/batch`: up to 100 transfers posted all or nothing (API.md, "Batches")."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from bankledger.core.annotations import MetadataField, ReferenceField
from bankledger.core.schema import ErrorSerializer, error_response
from ledger.exceptions import TransferRefused
from transactions.apis import (
    EXAMPLE_PAYEE,
    EXAMPLE_PAYER,
    AmountField,
    IdempotencyKeyInput,
    request_example,
)
from transactions.models import Batch
from transactions.serializers import TRANSACTION_OUTPUT, TransactionOutputSerializer
from transactions.services import BatchItem, batch_create

MAX_ITEMS = 100


class BatchOutputSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    status = serializers.ChoiceField(choices=Batch.Status.choices)
    idempotencyKey = serializers.CharField(source="idempotency_key")
    transactions = serializers.SerializerMethodField()
    failureCode = serializers.CharField(
        source="failure_code", allow_null=True, help_text="The first refused item's code."
    )
    failureIndex = serializers.IntegerField(
        source="failure_index", allow_null=True, help_text="The first refused item (0-based)."
    )
    createdAt = serializers.DateTimeField(source="created_at")

    @extend_schema(responses=TransactionOutputSerializer(many=True))
    def get_transactions(self, batch: Batch) -> list:
        """In item order; none for a FAILED batch (nothing was posted). A batch just posted
        hands its rows over (`items` in the context) instead of reading them back."""
        items = self.context.get("items") or batch.transactions.order_by("batch_index")
        return [TRANSACTION_OUTPUT.to_representation(item) for item in items]

    def to_representation(self, batch: Batch) -> dict:
        body = super().to_representation(batch)
        body["failureCode"] = body["failureCode"] or None
        return body


class BatchResultSerializer(serializers.Serializer):
    message = serializers.CharField()
    batch = BatchOutputSerializer()


class BatchRefusalSerializer(ErrorSerializer):
    index = serializers.IntegerField(
        required=False,
        help_text="The first refused item (0-based); absent when the body itself is malformed.",
    )
    batch = BatchOutputSerializer(required=False, help_text="The FAILED batch, when recorded.")


class BatchItemInput(serializers.Serializer):
    fromAccount = serializers.CharField(max_length=64)
    toAccount = serializers.CharField(max_length=64)
    amount = AmountField()
    reference = ReferenceField()
    metadata = MetadataField()


class BatchViewSet(viewsets.ViewSet):
    """`/api/transactions/batch`: many transfers, all or nothing."""

    required_scopes = {"create": "transactions:write"}

    @extend_schema_serializer(
        examples=[
            request_example(
                "payroll",
                {
                    "idempotencyKey": "payroll-2026-11",
                    "transfers": [
                        {
                            "fromAccount": EXAMPLE_PAYER,
                            "toAccount": EXAMPLE_PAYEE,
                            "amount": "1200.00",
                        },
                        {
                            "fromAccount": EXAMPLE_PAYER,
                            "toAccount": EXAMPLE_PAYEE,
                            "amount": "45.50",
                            "reference": "fee-2026-11",
                            "metadata": {"kind": "fee"},
                        },
                    ],
                },
            )
        ]
    )
    class CreateInputSerializer(IdempotencyKeyInput):
        # A ListField reports a malformed item's errors keyed by the item's index.
        transfers = serializers.ListField(
            child=BatchItemInput(), min_length=1, max_length=MAX_ITEMS
        )

    @extend_schema(
        operation_id="transactions_batch_create",
        request=CreateInputSerializer,
        responses={
            201: BatchResultSerializer,
            200: BatchResultSerializer,
            400: BatchRefusalSerializer,
            403: error_response("`forbidden_account`: an item's fromAccount is not yours."),
            409: error_response(
                "`idempotency_key_reused`: the key was used with a different body."
            ),
        },
    )
    def create(self, request):
        data = self.CreateInputSerializer(
            data=request.data, header_key=request.headers.get("Idempotency-Key")
        )
        data.is_valid(raise_exception=True)
        items = [
            BatchItem(
                from_account_id=item["fromAccount"],
                to_account_id=item["toAccount"],
                amount=item["amount"],
                reference=item.get("reference"),
                metadata=item.get("metadata") or {},
            )
            for item in data.validated_data["transfers"]
        ]
        try:
            result = batch_create(
                initiator=request.user,
                items=items,
                idempotency_key=data.validated_data["idempotencyKey"],
            )
        except TransferRefused as refusal:
            refusal.extra["batch"] = BatchOutputSerializer(refusal.batch).data
            raise
        if result.replayed:
            message, http_status = "Batch already processed", status.HTTP_200_OK
        else:
            message, http_status = "Batch completed successfully", status.HTTP_201_CREATED
        batch = BatchOutputSerializer(result.batch, context={"items": result.items}).data
        body = {"message": message, "batch": batch}
        return Response(body, http_status)

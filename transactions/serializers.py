"""How a transaction is rendered: in API answers and, snapshotted, in its events."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bankledger.core.annotations import MetadataField
from bankledger.core.money import format_minor_units
from ledger.models import Hold
from transactions.models import Transaction


class TransactionOutputSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    fromAccount = serializers.UUIDField(source="from_account_id")
    toAccount = serializers.UUIDField(source="to_account_id")
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=Transaction.Status.choices)
    kind = serializers.ChoiceField(choices=Transaction.Kind.choices)
    reversalOf = serializers.UUIDField(source="reversal_of_id", allow_null=True)
    reason = serializers.CharField()
    reference = serializers.CharField(allow_null=True)
    metadata = MetadataField()
    batch = serializers.UUIDField(source="batch_id", allow_null=True)
    hold = serializers.UUIDField(
        source="hold_id", allow_null=True, help_text="The hold a CAPTURE posts; else null."
    )
    idempotencyKey = serializers.CharField(
        source="idempotency_key", allow_null=True, help_text="Null for a batch's items."
    )
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    def get_amount(self, obj: Transaction) -> str:
        return format_minor_units(obj.amount, obj.currency)


# One bound instance renders every transaction the write endpoints answer with: a fresh
# serializer deep-copies its declared fields on each use (about 0.3 ms of a transfer's CPU),
# and rendering reads the fields without changing them.
TRANSACTION_OUTPUT = TransactionOutputSerializer()


class HoldOutputSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    fromAccount = serializers.UUIDField(source="from_account_id")
    toAccount = serializers.UUIDField(source="to_account_id")
    amount = serializers.SerializerMethodField()
    capturedAmount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    status = serializers.SerializerMethodField()
    expiresAt = serializers.DateTimeField(source="expires_at")
    transaction = serializers.UUIDField(
        source="transaction_id", allow_null=True, help_text="The capture; null until captured."
    )
    reference = serializers.CharField(allow_null=True)
    metadata = MetadataField()
    idempotencyKey = serializers.CharField(source="idempotency_key")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    def get_amount(self, hold: Hold) -> str:
        return format_minor_units(hold.amount, hold.currency)

    def get_capturedAmount(self, hold: Hold) -> str | None:
        if hold.captured_amount is None:
            return None
        return format_minor_units(hold.captured_amount, hold.currency)

    @extend_schema_field(serializers.ChoiceField(choices=Hold.Status.choices))
    def get_status(self, hold: Hold) -> str:
        """A PENDING hold past its expiry is EXPIRED from that instant, marked or not yet."""
        if hold.status == Hold.Status.PENDING and hold.expires_at <= timezone.now():
            return Hold.Status.EXPIRED
        return hold.status


HOLD_OUTPUT = HoldOutputSerializer()

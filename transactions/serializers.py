"""How a transaction is rendered: in API answers and, snapshotted, in its events."""

from datetime import datetime

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

    def to_representation(self, tx: Transaction) -> dict:
        """The fields above, written out: DRF's generic walk over them cost about 0.25 ms per
        transaction, paid for the event and again for the answer of every transfer. A test
        holds this to the generic rendering for every kind, status and link."""
        return {
            "_id": str(tx.id),
            "fromAccount": str(tx.from_account_id),
            "toAccount": str(tx.to_account_id),
            "amount": format_minor_units(tx.amount, tx.currency),
            "currency": tx.currency,
            "status": str(tx.status),
            "kind": str(tx.kind),
            "reversalOf": _id_or_none(tx.reversal_of_id),
            "reason": tx.reason,
            "reference": tx.reference,
            "metadata": tx.metadata,
            "batch": _id_or_none(tx.batch_id),
            "hold": _id_or_none(tx.hold_id),
            "idempotencyKey": tx.idempotency_key,
            "createdAt": _time(tx.created_at),
            "updatedAt": _time(tx.updated_at),
        }


def _time(value: datetime) -> str:
    """What DRF's DateTimeField renders (ISO 8601, `Z` for UTC) for a time in the project's
    zone, which no request replaces (`TIME_ZONE`): without the field's look-up of the active
    zone, a context-local read that was half of a transaction's rendering."""
    text = value.astimezone(_ZONE).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_ZONE = timezone.get_default_timezone()


def _id_or_none(value) -> str | None:
    return None if value is None else str(value)


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

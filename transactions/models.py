from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import Account
from bankledger.core.annotations import REFERENCE_MAX_LENGTH, annotation_constraints
from bankledger.core.ids import new_id
from ledger.models import Hold


class TransactionStatus(models.TextChoices):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REVERSED = "REVERSED"


class TransactionKind(models.TextChoices):
    TRANSFER = "TRANSFER"
    INITIAL_FUNDS = "INITIAL_FUNDS"
    REVERSAL = "REVERSAL"
    CAPTURE = "CAPTURE"


class BatchStatus(models.TextChoices):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class Batch(models.Model):
    """Transfers posted all or nothing in one database transaction. The batch, not its items,
    holds the idempotency key; a refused batch is recorded FAILED with the first refused item's
    index and code, posts nothing, and is replayed for its key. A batch never changes once
    written (a database trigger refuses any UPDATE)."""

    Status = BatchStatus

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="batches"
    )
    kind = models.CharField(max_length=13, choices=TransactionKind.choices)
    idempotency_key = models.CharField(max_length=255)
    # What "the same request" means for this key: a digest of every item, in order.
    fingerprint = models.CharField(max_length=128)
    status = models.CharField(max_length=9, choices=Status.choices)
    size = models.PositiveIntegerField(help_text="How many items the request had.")
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.CharField(max_length=255, blank=True, default="")
    failure_index = models.PositiveIntegerField(
        null=True, blank=True, help_text="The first refused item (0-based)."
    )
    failure_remaining = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(
                fields=["initiator", "idempotency_key"], name="batches_idempotency_key_unique"
            ),
            models.CheckConstraint(
                condition=~Q(idempotency_key=""), name="batches_idempotency_key_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(status__in=BatchStatus.values), name="batches_status_valid"
            ),
            models.CheckConstraint(condition=Q(size__gte=1), name="batches_not_empty"),
            models.CheckConstraint(
                condition=Q(
                    status="FAILED",
                    failure_code__gt="",
                    failure_index__isnull=False,
                    failure_index__lt=F("size"),
                )
                | Q(status="COMPLETED", failure_code="", failure_index__isnull=True),
                name="batches_failure_iff_failed",
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.id} ({self.status}, {self.size} items)"


# The rows the GIN index on the metadata holds (PostgreSQL): a filter on the metadata repeats
# this condition, word for word, so that the planner knows the index covers it.
METADATA_INDEXED = "transactions_transaction.metadata <> '{}'::jsonb"


class Transaction(models.Model):
    Status = TransactionStatus
    Kind = TransactionKind

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    # Foreign keys without an index of their own where a wider index (in Meta) leads with
    # them: every index is one more write on each transfer.
    from_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="outgoing", db_index=False
    )
    to_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="incoming", db_index=False
    )
    amount = models.BigIntegerField(help_text="In minor units of the currency.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    kind = models.CharField(max_length=13, choices=Kind.choices, default=Kind.TRANSFER)
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
    )
    # Null only for a batch's items: their batch holds the key (NULLs never collide in the
    # unique index, an empty string would).
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # What "the same request" means for this key: from, to and the amount in minor units.
    fingerprint = models.CharField(max_length=128)
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.CharField(max_length=255, blank=True, default="")
    # A REVERSAL moves an earlier transaction's amount back; at most one that did not fail
    # exists per original (a partial unique index), and it carries the reason it was made.
    reversal_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        db_index=False,
    )
    reason = models.CharField(max_length=255, blank=True, default="")
    # The client's own labels; part of the idempotency fingerprint, never changed once written
    # (a database trigger refuses it).
    # Null when absent, as the API renders it; an empty reference is refused.
    reference = models.CharField(  # noqa: DJ001
        max_length=REFERENCE_MAX_LENGTH, null=True, blank=True
    )
    metadata = models.JSONField(default=dict, blank=True)
    batch = models.ForeignKey(
        Batch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transactions",
        db_index=False,
    )
    batch_index = models.PositiveIntegerField(null=True, blank=True)
    # A CAPTURE posts a hold: at most one that did not fail per hold (a partial unique index).
    hold = models.ForeignKey(
        Hold,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="captures",
        db_index=False,
    )
    # For a `limit_exceeded` refusal: what the daily outflow limit still allowed (minor units).
    failure_remaining = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["initiator", "idempotency_key"], name="transactions_idempotency_key_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="transactions_amount_positive"),
            models.CheckConstraint(
                condition=~Q(from_account=F("to_account")), name="transactions_distinct_accounts"
            ),
            models.CheckConstraint(
                condition=Q(status__in=TransactionStatus.values),
                name="transactions_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=TransactionKind.values),
                name="transactions_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind="REVERSAL", reversal_of__isnull=False, reason__gt="")
                | (~Q(kind="REVERSAL") & Q(reversal_of__isnull=True)),
                name="transactions_reversal_iff_linked",
            ),
            models.CheckConstraint(
                condition=Q(kind="CAPTURE", hold__isnull=False)
                | (~Q(kind="CAPTURE") & Q(hold__isnull=True)),
                name="transactions_capture_iff_hold",
            ),
            models.UniqueConstraint(
                fields=["hold"],
                condition=~Q(status="FAILED"),
                name="transactions_one_capture_per_hold",
            ),
            models.UniqueConstraint(
                fields=["reversal_of"],
                condition=~Q(status="FAILED"),
                name="transactions_one_reversal_per_original",
            ),
            models.CheckConstraint(
                condition=Q(status="FAILED", failure_code__gt="")
                | (~Q(status="FAILED") & Q(failure_code="")),
                name="transactions_failure_code_iff_failed",
            ),
            models.CheckConstraint(
                condition=~Q(idempotency_key=""), name="transactions_idempotency_key_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(
                    batch__isnull=True, batch_index__isnull=True, idempotency_key__isnull=False
                )
                | Q(batch__isnull=False, batch_index__isnull=False, idempotency_key__isnull=True),
                name="transactions_key_or_batch_item",
            ),
            models.UniqueConstraint(
                fields=["batch", "batch_index"], name="transactions_one_item_per_batch_index"
            ),
            *annotation_constraints("transactions"),
        ]
        # On PostgreSQL the metadata also has a GIN index (migrations 0004, 0008) of the rows
        # with metadata (METADATA_INDEXED), which serves the `metadata.KEY=VALUE` filters;
        # Django's GinIndex would not migrate on SQLite.
        indexes = [
            models.Index(fields=["from_account", "created_at"]),
            models.Index(fields=["to_account", "created_at"]),
            models.Index(
                fields=["reference"],
                condition=Q(reference__isnull=False),
                name="transactions_reference_idx",
            ),
            # Most transactions reverse and capture nothing: only the links are indexed.
            models.Index(
                fields=["reversal_of"],
                condition=Q(reversal_of__isnull=False),
                name="transactions_reversal_of_idx",
            ),
            models.Index(
                fields=["hold"], condition=Q(hold__isnull=False), name="transactions_hold_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

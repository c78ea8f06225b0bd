import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import Account


class TransactionStatus(models.TextChoices):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REVERSED = "REVERSED"


class TransactionKind(models.TextChoices):
    TRANSFER = "TRANSFER"
    INITIAL_FUNDS = "INITIAL_FUNDS"
    REVERSAL = "REVERSAL"


class Transaction(models.Model):
    Status = TransactionStatus
    Kind = TransactionKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    from_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="outgoing")
    to_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="incoming")
    amount = models.BigIntegerField(help_text="In minor units of the currency.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    kind = models.CharField(max_length=13, choices=Kind.choices, default=Kind.TRANSFER)
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transactions"
    )
    idempotency_key = models.CharField(max_length=255)
    # What "the same request" means for this key: from, to and the amount in minor units.
    fingerprint = models.CharField(max_length=128)
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.CharField(max_length=255, blank=True, default="")
    # A REVERSAL moves an earlier transaction's amount back; at most one that did not fail
    # exists per original (a partial unique index), and it carries the reason it was made.
    reversal_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    reason = models.CharField(max_length=255, blank=True, default="")
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
        ]
        indexes = [
            models.Index(fields=["from_account", "created_at"]),
            models.Index(fields=["to_account", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone

from accounts.models import Account
from bankledger.core.annotations import REFERENCE_MAX_LENGTH, annotation_constraints
from bankledger.core.ids import new_id


class ImmutableError(Exception):
    """Ledger entries are never changed or removed; corrections are new, reversing entries."""


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError("Ledger entries cannot be updated.")

    def delete(self):
        raise ImmutableError("Ledger entries cannot be deleted.")


class LedgerEntryType(models.TextChoices):
    DEBIT = "DEBIT"
    CREDIT = "CREDIT"


class LedgerEntry(models.Model):
    Type = LedgerEntryType

    # A sequence, not a UUID: per account, ids grow in the order the account's row lock was
    # taken, which gives statements a stable order and cursor.
    id = models.BigAutoField(primary_key=True)
    # No index of their own: the indexes in Meta lead with each (one write less per leg).
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    # The Transaction lives in an app above this one (imports go transactions -> ledger).
    transaction = models.ForeignKey(
        "transactions.Transaction", on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    type = models.CharField(max_length=6, choices=Type.choices)
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    created_at = models.DateTimeField()

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="ledger_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(type__in=LedgerEntryType.values), name="ledger_type_valid"
            ),
            models.UniqueConstraint(
                fields=["transaction", "account", "type"], name="ledger_one_leg_per_side"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "id"], name="ledger_account_id_idx"),
            models.Index(fields=["account", "created_at", "id"], name="ledger_account_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount} on {self.account_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("Ledger entries cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Ledger entries cannot be deleted.")


class HoldStatus(models.TextChoices):
    PENDING = "PENDING"
    CAPTURED = "CAPTURED"
    VOIDED = "VOIDED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


# How long a hold may last (API.md "Holds": `expiresIn`, seconds); the database refuses a hold
# written outside it (ledger.triggers.HOLD_EXPIRY_BOUNDS).
MIN_EXPIRES_IN, MAX_EXPIRES_IN = 1, 30 * 24 * 3600


class Hold(models.Model):
    """Money reserved on the payer's account for a payee (API.md "Holds"): written and changed
    only by the posting engine, with the accounts locked.

    What a payer holds is not cached: it is the sum of its PENDING holds whose `expires_at` is
    still ahead, computed on the locked row, so a hold stops counting at `expires_at` with no
    sweep (marking it EXPIRED is for display and events only). The database refuses a hold or a
    balance change that would take `balance - held` below `-overdraft_limit`, any change of a
    hold that is no longer PENDING (so it is captured or voided at most once), a capture after
    `expires_at` and any DELETE (ledger.triggers.HOLDS)."""

    Status = HoldStatus

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    from_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    to_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="incoming_holds")
    amount = models.BigIntegerField(help_text="In minor units of the currency.")
    captured_amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=8, choices=Status.choices)
    expires_at = models.DateTimeField()
    # As asked, in seconds: part of what "the same request" means for the key.
    expires_in = models.PositiveIntegerField()
    # The capture (a CAPTURE transaction, in the app above this one).
    transaction = models.OneToOneField(
        "transactions.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="captured_hold",
    )
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="holds"
    )
    idempotency_key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=128)
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.CharField(max_length=255, blank=True, default="")
    failure_remaining = models.BigIntegerField(null=True, blank=True)
    # Who voided it and under which key (a void is replayed for that key; another hold voided
    # with the same key is 409).
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="voided_holds",
    )
    void_idempotency_key = models.CharField(  # noqa: DJ001
        max_length=255, null=True, blank=True
    )
    reference = models.CharField(max_length=REFERENCE_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["initiator", "idempotency_key"], name="holds_idempotency_key_unique"
            ),
            models.UniqueConstraint(
                fields=["voided_by", "void_idempotency_key"], name="holds_void_key_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="holds_amount_positive"),
            models.CheckConstraint(
                condition=~Q(from_account=F("to_account")), name="holds_distinct_accounts"
            ),
            models.CheckConstraint(
                condition=Q(status__in=HoldStatus.values), name="holds_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(idempotency_key=""), name="holds_idempotency_key_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(
                    status="CAPTURED",
                    transaction__isnull=False,
                    captured_amount__gt=0,
                    captured_amount__lte=F("amount"),
                )
                | (
                    ~Q(status="CAPTURED")
                    & Q(transaction__isnull=True, captured_amount__isnull=True)
                ),
                name="holds_captured_iff_transaction",
            ),
            models.CheckConstraint(
                condition=Q(status="VOIDED", voided_by__isnull=False)
                | (
                    ~Q(status="VOIDED")
                    & Q(voided_by__isnull=True, void_idempotency_key__isnull=True)
                ),
                name="holds_voided_iff_voider",
            ),
            models.CheckConstraint(
                condition=Q(status="FAILED", failure_code__gt="")
                | (~Q(status="FAILED") & Q(failure_code="")),
                name="holds_failure_code_iff_failed",
            ),
            *annotation_constraints("holds"),
        ]
        indexes = [
            models.Index(fields=["from_account", "status", "expires_at"], name="holds_payer_idx"),
            models.Index(fields=["to_account", "created_at"], name="holds_payee_idx"),
            models.Index(fields=["status", "expires_at"], name="holds_status_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"hold {self.id} ({self.status})"


# The public log (API.md "Receipts and the ledger's public log"). Every table below is append-only:
# the models and querysets refuse changes, and database triggers (ledger.triggers, "log" group)
# refuse UPDATE and DELETE from raw SQL too.


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError("The public log is append-only.")

    def delete(self):
        raise ImmutableError("The public log is append-only.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("The public log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("The public log is append-only.")


def _byte_length(field: str, size: int, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Exact(Length(field), size), name=name)


class LogKey(AppendOnlyModel):
    """Every public key that ever signed a receipt or checkpoint, recorded when first used, so
    signatures made before a key rotation stay verifiable."""

    key_id = models.CharField(max_length=16, primary_key=True)
    public_key = models.BinaryField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            _byte_length("key_id", 16, "log_key_id_16_hex_digits"),
            _byte_length("public_key", 32, "log_key_public_key_32_bytes"),
        ]

    def __str__(self) -> str:
        return self.key_id


class LogLeaf(AppendOnlyModel):
    """One posted transaction in the log, at the position the sequencer gave it (commit order).
    A trigger refuses a leaf anywhere but at the next position, so positions have no gaps and
    never change; its receipt (payload, hash, signature) is kept as signed."""

    log_index = models.BigIntegerField(primary_key=True)
    transaction = models.OneToOneField(
        "transactions.Transaction", on_delete=models.PROTECT, related_name="log_leaf"
    )
    payload = models.TextField()
    leaf_hash = models.BinaryField(max_length=32)
    signature = models.BinaryField(max_length=64)
    # No index: keys are never deleted, and an index per leaf would only cost space.
    key = models.ForeignKey(LogKey, on_delete=models.PROTECT, related_name="+", db_index=False)
    appended_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(log_index__gte=0), name="log_leaf_index_not_negative"
            ),
            _byte_length("leaf_hash", 32, "log_leaf_hash_32_bytes"),
            _byte_length("signature", 64, "log_leaf_signature_64_bytes"),
        ]

    def __str__(self) -> str:
        return f"leaf {self.log_index}"


class LogNode(AppendOnlyModel):
    """The hash of a perfect subtree of level >= 1: leaves [position * 2**level,
    (position + 1) * 2**level). Written when its last leaf is appended (ledger.log.merkle)."""

    pk = models.CompositePrimaryKey("level", "position")
    level = models.PositiveSmallIntegerField()
    position = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=62), name="log_node_level_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(position__gte=0), name="log_node_position_not_negative"
            ),
            _byte_length("hash", 32, "log_node_hash_32_bytes"),
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.position}"


class Checkpoint(AppendOnlyModel):
    """A signed statement of the log's root at one size, kept forever. A trigger refuses a
    checkpoint larger than the log or not larger than the last one."""

    tree_size = models.BigIntegerField(primary_key=True)
    root_hash = models.BinaryField(max_length=32)
    timestamp = models.DateTimeField()
    key = models.ForeignKey(LogKey, on_delete=models.PROTECT, related_name="+")
    signature = models.BinaryField(max_length=64)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tree_size__gt=0), name="log_checkpoint_size_positive"
            ),
            _byte_length("root_hash", 32, "log_checkpoint_root_32_bytes"),
            _byte_length("signature", 64, "log_checkpoint_signature_64_bytes"),
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size}"

from django.db import models

from accounts.models import Account


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
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    # The Transaction lives in an app above this one (imports go transactions -> ledger).
    transaction = models.ForeignKey(
        "transactions.Transaction", on_delete=models.PROTECT, related_name="entries"
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

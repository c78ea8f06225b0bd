import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from bankledger.core.money import DEFAULT_CURRENCY


class AccountStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    FROZEN = "FROZEN"
    CLOSED = "CLOSED"


class Account(models.Model):
    Status = AccountStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="accounts"
    )
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.ACTIVE)
    currency = models.CharField(max_length=3, default=DEFAULT_CURRENCY)
    # A cache of the ledger (credits - debits), in minor units, written only by the transfer
    # service in the same database transaction as the entries.
    balance = models.BigIntegerField(default=0, editable=False)
    # The system user's funding account for a currency: the source of initial funds, the one
    # kind of account allowed below zero.
    is_funding = models.BooleanField(default=False, editable=False)
    # Limits (API.md "Account limits"), in minor units, set by system users only: how far below
    # zero `balance - held` may go, and what may leave per UTC day (null: no cap). A funding
    # account has none (the engine never checks them for it).
    overdraft_limit = models.BigIntegerField(default=0, editable=False)
    daily_outflow_limit = models.BigIntegerField(null=True, blank=True, editable=False)
    # Set by the database (a trigger on holds: ledger.triggers.HOLDS_MARK_PAYER) when a PENDING
    # hold is first written from this account, never cleared: the posting engine sums the
    # holds of marked payers only, so a payer that never held anything costs no holds query.
    has_holds = models.BooleanField(default=False, db_default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # The pending holds are counted too, by a trigger (ledger.triggers.AVAILABLE): a CHECK
            # sees one row only.
            models.CheckConstraint(
                condition=models.Q(balance__gte=-models.F("overdraft_limit"))
                | models.Q(is_funding=True),
                name="accounts_user_balance_within_overdraft",
            ),
            models.CheckConstraint(
                condition=models.Q(overdraft_limit__gte=0), name="accounts_overdraft_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(daily_outflow_limit__isnull=True)
                | models.Q(daily_outflow_limit__gte=0),
                name="accounts_daily_outflow_limit_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(is_funding=False)
                | models.Q(overdraft_limit=0, daily_outflow_limit__isnull=True),
                name="accounts_funding_has_no_limits",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=AccountStatus.values),
                name="accounts_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="accounts_currency_iso"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="CLOSED") | models.Q(balance=0),
                name="accounts_closed_balance_zero",
            ),
            models.UniqueConstraint(
                fields=["user", "currency"],
                condition=models.Q(is_funding=True),
                name="accounts_one_funding_account_per_currency",
            ),
        ]
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.id} ({self.currency}, {self.status})"


class AccountStatusChange(models.Model):
    """Who changed an account's status, when and why; written in the same database transaction
    as the change itself. `actor` is empty when an operator ran a management command."""

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=6, choices=Account.Status.choices)
    to_status = models.CharField(max_length=6, choices=Account.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="account_status_changes",
    )
    reason = models.TextField(blank=True, default="")
    # Later than every entry of the account before the change (`accounts.services`), so
    # `verify_ledger` can tell each entry's status from this history.
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(from_status__in=AccountStatus.values)
                & models.Q(to_status__in=AccountStatus.values),
                name="account_status_change_statuses_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_status=models.F("to_status")),
                name="account_status_change_is_a_change",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_status="CLOSED"),
                name="account_status_change_closed_is_final",
            ),
        ]
        indexes = [models.Index(fields=["account", "created_at"])]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_status} -> {self.to_status}"


class AccountLimitChange(models.Model):
    """Who changed an account's limits, when, why, and from what to what (minor units; null
    daily limit: none); written in the same database transaction as the change."""

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="limit_changes")
    overdraft_limit = models.BigIntegerField()
    daily_outflow_limit = models.BigIntegerField(null=True, blank=True)
    previous_overdraft_limit = models.BigIntegerField()
    previous_daily_outflow_limit = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="account_limit_changes",
    )
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(overdraft_limit__gte=0, previous_overdraft_limit__gte=0),
                name="account_limit_changes_overdraft_not_negative",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(daily_outflow_limit__isnull=True)
                    | models.Q(daily_outflow_limit__gte=0)
                )
                & (
                    models.Q(previous_daily_outflow_limit__isnull=True)
                    | models.Q(previous_daily_outflow_limit__gte=0)
                ),
                name="account_limit_changes_daily_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: limits changed"

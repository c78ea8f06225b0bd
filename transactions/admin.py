from django.contrib import admin

from accounts.admin import AccountFilter
from bankledger.core.admin_mixins import (
    SearchByIdMixin,
    StaffBrowseOnlyMixin,
    id_html,
    is_system_user,
    money_html,
)
from transactions.admin_funding import InitialFundsPageMixin
from transactions.models import Transaction

_FIELDS = (
    "id",
    "kind",
    "status",
    "from_account",
    "to_account",
    "amount_display",
    "initiator",
    "idempotency_key",
    "reversal_of",
    "reason",
    "failure_code",
    "failure_message",
    "created_at",
    "updated_at",
)


class TransactionAccountFilter(AccountFilter):
    account_fields = ("from_account", "to_account")


@admin.register(Transaction)
class TransactionAdmin(
    InitialFundsPageMixin, SearchByIdMixin, StaffBrowseOnlyMixin, admin.ModelAdmin
):
    """Read-only for everyone; system users post initial funds from a page of their own that
    calls the same service as `POST /api/transactions/system/initial-funds`. Search by any part
    of the transaction's or either account's id, or by the exact idempotency key;
    `?account=<id>` lists one account's transactions (linked from the account's page)."""

    list_display = (
        "short_id",
        "created_at",
        "kind",
        "status",
        "from_display",
        "to_display",
        "amount_display",
    )
    list_filter = (TransactionAccountFilter, "status", "kind", "created_at")
    search_fields = ("=idempotency_key",)
    id_search_fields = ("id", "from_account_id", "to_account_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    fields = _FIELDS
    readonly_fields = _FIELDS

    @admin.display(description="id", ordering="id")
    def short_id(self, tx: Transaction):
        return id_html(tx.pk)

    @admin.display(description="from", ordering="from_account_id")
    def from_display(self, tx: Transaction):
        return id_html(tx.from_account_id, link_to="accounts_account")

    @admin.display(description="to", ordering="to_account_id")
    def to_display(self, tx: Transaction):
        return id_html(tx.to_account_id, link_to="accounts_account")

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, tx: Transaction):
        return money_html(tx.amount, tx.currency)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_post_funds": is_system_user(request.user)}
        return super().changelist_view(request, extra_context)

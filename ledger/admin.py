from django.contrib import admin

from accounts.admin import AccountFilter
from bankledger.core.admin_mixins import (
    SearchByIdMixin,
    StaffBrowseOnlyMixin,
    id_html,
    money_html,
)
from ledger.models import LedgerEntry

_FIELDS = (
    "id",
    "account",
    "transaction",
    "type",
    "amount_display",
    "balance_after_display",
    "created_at",
)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(SearchByIdMixin, StaffBrowseOnlyMixin, admin.ModelAdmin):
    """Read-only for everyone, like the table itself (a database trigger refuses UPDATE and
    DELETE). Search by any part of the account's or the transaction's id, or by DEBIT/CREDIT;
    `?account=<id>` lists one account's entries (linked from the account's page)."""

    list_display = (
        "id",
        "created_at",
        "account_display",
        "transaction_display",
        "type",
        "amount_display",
        "balance_after_display",
    )
    list_filter = (AccountFilter, "type", "created_at")
    list_select_related = ("account",)
    search_fields = ("=type",)
    id_search_fields = ("account_id", "transaction_id")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    fields = _FIELDS
    readonly_fields = _FIELDS

    @admin.display(description="account", ordering="account_id")
    def account_display(self, entry: LedgerEntry):
        return id_html(entry.account_id, link_to="accounts_account")

    @admin.display(description="transaction", ordering="transaction_id")
    def transaction_display(self, entry: LedgerEntry):
        return id_html(entry.transaction_id, link_to="transactions_transaction")

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, entry: LedgerEntry):
        return money_html(entry.amount, entry.account.currency)

    @admin.display(description="balance after", ordering="balance_after")
    def balance_after_display(self, entry: LedgerEntry):
        return money_html(entry.balance_after, entry.account.currency)

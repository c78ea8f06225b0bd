from django.contrib import admin

from bankledger.core.admin_mixins import SearchByIdMixin, StaffBrowseOnlyMixin
from bankledger.core.money import format_minor_units
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
    DELETE). Search by the account's or the transaction's id, or by DEBIT/CREDIT."""

    list_display = (
        "id",
        "created_at",
        "account",
        "transaction",
        "type",
        "amount_display",
        "balance_after_display",
    )
    list_filter = ("type", "created_at")
    list_select_related = ("account", "transaction")
    search_fields = ("=type",)
    id_search_fields = ("account_id", "transaction_id")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    fields = _FIELDS
    readonly_fields = _FIELDS

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, entry: LedgerEntry) -> str:
        return (
            f"{format_minor_units(entry.amount, entry.account.currency)} {entry.account.currency}"
        )

    @admin.display(description="balance after", ordering="balance_after")
    def balance_after_display(self, entry: LedgerEntry) -> str:
        return format_minor_units(entry.balance_after, entry.account.currency)

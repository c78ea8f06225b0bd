from django.contrib import admin, messages

from accounts.admin import AccountFilter
from bankledger.core.admin_mixins import (
    SearchByIdMixin,
    StaffBrowseOnlyMixin,
    id_html,
    is_system_user,
    money_html,
)
from bankledger.core.annotations import METADATA_KEY
from bankledger.core.errors import ApplicationError, error_line
from ledger.models import Hold
from transactions.admin_funding import InitialFundsPageMixin
from transactions.hold_services import hold_void_by
from transactions.models import Batch, Transaction
from transactions.selectors import metadata_has

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
    "reference",
    "metadata",
    "batch",
    "batch_index",
    "hold",
    "failure_code",
    "failure_message",
    "created_at",
    "updated_at",
)


class FromToAccountFilter(AccountFilter):
    account_fields = ("from_account", "to_account")


class MovementColumnsMixin:
    """The columns a transaction and a hold share: short id, both accounts linked, amount."""

    @admin.display(description="id", ordering="id")
    def short_id(self, row):
        return id_html(row.pk)

    @admin.display(description="from", ordering="from_account_id")
    def from_display(self, row):
        return id_html(row.from_account_id, link_to="accounts_account")

    @admin.display(description="to", ordering="to_account_id")
    def to_display(self, row):
        return id_html(row.to_account_id, link_to="accounts_account")

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, row):
        return money_html(row.amount, row.currency)


@admin.register(Transaction)
class TransactionAdmin(
    InitialFundsPageMixin,
    MovementColumnsMixin,
    SearchByIdMixin,
    StaffBrowseOnlyMixin,
    admin.ModelAdmin,
):
    """Read-only for everyone; system users post initial funds from a page of their own that
    calls the same service as `POST /api/transactions/system/initial-funds`. Search by any part
    of the transaction's or either account's id, by the exact idempotency key or reference, or
    by metadata as KEY=VALUE words that must all match; `?account=<id>` lists one account's
    transactions (linked from the account's page)."""

    list_display = (
        "short_id",
        "created_at",
        "kind",
        "status",
        "from_display",
        "to_display",
        "amount_display",
        "reference",
    )
    list_filter = (FromToAccountFilter, "status", "kind", "created_at")
    search_fields = ("=idempotency_key", "=reference")
    search_help_text = "An id, an idempotency key, a reference, or metadata as KEY=VALUE."
    id_search_fields = ("id", "from_account_id", "to_account_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    fields = _FIELDS
    readonly_fields = _FIELDS

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_post_funds": is_system_user(request.user)}
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        """Also: every `KEY=VALUE` word of the search must be in the metadata, through the same
        filter as `GET /api/transactions?metadata.KEY=VALUE`."""
        results, duplicates = super().get_search_results(request, queryset, search_term)
        pairs = [word.split("=", 1) for word in search_term.split() if "=" in word]
        pairs = [(key, value) for key, value in pairs if METADATA_KEY.match(key)]
        if pairs:
            by_metadata = queryset
            for key, value in pairs:
                by_metadata = by_metadata.filter(metadata_has(key, value))
            results |= by_metadata
        return results, duplicates


class BatchItemInline(StaffBrowseOnlyMixin, admin.TabularInline):
    """A batch's transactions, in item order; read-only like every transaction."""

    model = Transaction
    fk_name = "batch"
    fields = ("batch_index", "item", "from_display", "to_display", "amount_display", "reference")
    readonly_fields = fields
    ordering = ("batch_index",)
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="transaction")
    def item(self, tx: Transaction) -> str:
        return f"{tx.id} ({tx.status})"

    @admin.display(description="from")
    def from_display(self, tx: Transaction):
        return id_html(tx.from_account_id, link_to="accounts_account")

    @admin.display(description="to")
    def to_display(self, tx: Transaction):
        return id_html(tx.to_account_id, link_to="accounts_account")

    @admin.display(description="amount")
    def amount_display(self, tx: Transaction):
        return money_html(tx.amount, tx.currency)


@admin.register(Batch)
class BatchAdmin(SearchByIdMixin, StaffBrowseOnlyMixin, admin.ModelAdmin):
    """Batches with their items in order; read-only for everyone (a batch never changes).
    Search by any part of the batch's id or by the exact idempotency key."""

    list_display = (
        "short_id",
        "created_at",
        "kind",
        "status",
        "size",
        "initiator",
        "idempotency_key",
        "failure_code",
        "failure_index",
    )
    list_filter = ("status", "kind", "created_at")
    list_select_related = ("initiator",)
    search_fields = ("=idempotency_key",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    fields = (
        "id",
        "kind",
        "status",
        "size",
        "initiator",
        "idempotency_key",
        "failure_code",
        "failure_message",
        "failure_index",
        "created_at",
    )
    readonly_fields = fields
    inlines = (BatchItemInline,)

    @admin.display(description="id", ordering="id")
    def short_id(self, batch: Batch):
        return id_html(batch.pk)


_HOLD_FIELDS = (
    "id",
    "status",
    "from_account",
    "to_account",
    "amount_display",
    "captured_amount",
    "expires_at",
    "transaction",
    "initiator",
    "idempotency_key",
    "reference",
    "metadata",
    "voided_by",
    "failure_code",
    "failure_message",
    "created_at",
    "updated_at",
)


@admin.register(Hold)
class HoldAdmin(MovementColumnsMixin, SearchByIdMixin, StaffBrowseOnlyMixin, admin.ModelAdmin):
    """Holds, read-only for staff; system users void PENDING ones through the same service as
    `POST /api/holds/:id/void` (the selected hold's id and the admin user make its key)."""

    list_display = (
        "short_id",
        "created_at",
        "status",
        "from_display",
        "to_display",
        "amount_display",
        "expires_at",
        "reference",
    )
    list_filter = (FromToAccountFilter, "status", "created_at")
    search_fields = ("=idempotency_key", "=reference")
    id_search_fields = ("id", "from_account_id", "to_account_id")
    ordering = ("-created_at",)
    fields = _HOLD_FIELDS
    readonly_fields = _HOLD_FIELDS
    actions = ("void",)

    def has_void_permission(self, request) -> bool:
        return is_system_user(request.user)

    @admin.action(description="Void selected holds", permissions=["void"])
    def void(self, request, queryset):
        voided = 0
        for hold_id in queryset.values_list("id", flat=True):
            try:
                hold_void_by(
                    initiator=request.user, hold_id=str(hold_id), idempotency_key=f"admin-{hold_id}"
                )
            except ApplicationError as refusal:
                self.message_user(request, f"{hold_id}: {error_line(refusal)}", messages.ERROR)
            else:
                voided += 1
        if voided:
            self.message_user(request, f"Voided: {voided} hold(s).", messages.SUCCESS)

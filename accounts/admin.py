import uuid
from decimal import Decimal, InvalidOperation
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Account, AccountLimitChange, AccountStatusChange
from accounts.services import (
    UNCHANGED,
    account_close,
    account_freeze,
    account_limits_set,
    account_unfreeze,
)
from bankledger.core.admin_mixins import (
    SearchByIdMixin,
    StaffBrowseOnlyMixin,
    id_html,
    is_system_user,
    money_html,
)
from bankledger.core.errors import ApplicationError, error_line
from bankledger.core.ids import short_id
from bankledger.core.money import format_money

_FIELDS = (
    "id",
    "user",
    "status",
    "currency",
    "balance_display",
    "held_display",
    "available_display",
    "overdraft_display",
    "daily_outflow_display",
    "is_funding",
    "created_at",
    "updated_at",
)


def account_label(account: Account) -> str:
    """How a person recognises an account in a picker or a filter: owner, balance, short id."""
    label = (
        f"{account.user.name} <{account.user.email}> · "
        f"{format_money(account.balance, account.currency)} · {short_id(account.pk)}"
    )
    return label if account.status == Account.Status.ACTIVE else f"{label} · {account.status}"


def _held(account: Account) -> int:
    """Its live PENDING holds as payer (the Hold model is the ledger's, above this app: read
    through the reverse relation)."""
    live = account.holds.filter(status="PENDING", expires_at__gt=timezone.now())
    return live.aggregate(total=Sum("amount"))["total"] or 0


class AccountFilter(admin.SimpleListFilter):
    """`?account=<id>`: the rows of one account, as linked from the account's page. Listed in
    the side bar only while it is set, naming the account, so it can be cleared there."""

    title = "account"
    parameter_name = "account"
    # The model's account foreign keys: a row belongs to the account if any of them is it.
    account_fields: tuple[str, ...] = ("account",)

    def _account_id(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(self.value())
        except ValueError:
            return None

    def lookups(self, request, model_admin):
        if not self.value():
            return []
        account = Account.objects.select_related("user").filter(pk=self._account_id()).first()
        return [(self.value(), account_label(account) if account else "unknown account")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        account_id = self._account_id()
        match = Q(pk__in=[])
        for field in self.account_fields if account_id else ():
            match |= Q(**{f"{field}_id": account_id})
        return queryset.filter(match)


class StatusActionForm(ActionForm):
    """The action bar, plus the reason recorded with a freeze, unfreeze, close or change of
    limits, and the limits themselves (major units; empty: unchanged; "none": no daily limit)."""

    reason = forms.CharField(required=False, max_length=500, label="Reason")
    overdraft_limit = forms.DecimalField(
        required=False, min_value=0, decimal_places=4, label="Overdraft limit"
    )
    daily_outflow_limit = forms.CharField(
        required=False, max_length=20, label="Daily outflow limit (or none)"
    )


class LimitChangeInline(StaffBrowseOnlyMixin, admin.TabularInline):
    model = AccountLimitChange
    fields = (
        "created_at",
        "previous_overdraft_limit",
        "overdraft_limit",
        "previous_daily_outflow_limit",
        "daily_outflow_limit",
        "actor",
        "reason",
    )
    readonly_fields = fields
    ordering = ("-id",)
    extra = 0
    verbose_name = "limit change (minor units)"


class StatusChangeInline(StaffBrowseOnlyMixin, admin.TabularInline):
    model = AccountStatusChange
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    ordering = ("-id",)
    extra = 0


@admin.register(Account)
class AccountAdmin(SearchByIdMixin, StaffBrowseOnlyMixin, admin.ModelAdmin):
    """Browse accounts; system users freeze, unfreeze and close them through the account
    services (the same rules as the API), each refusal reported as a message."""

    list_display = (
        "short_id",
        "owner_email",
        "status",
        "currency",
        "balance_display",
        "is_funding",
        "created_at",
    )
    list_filter = ("status", "currency", "is_funding")
    list_select_related = ("user",)
    search_fields = ("user__email", "user__name")
    ordering = ("-created_at",)
    fields = _FIELDS
    readonly_fields = _FIELDS
    inlines = (StatusChangeInline, LimitChangeInline)
    action_form = StatusActionForm
    actions = ("freeze", "unfreeze", "close", "set_limits")

    @admin.display(description="id", ordering="id")
    def short_id(self, account: Account):
        return id_html(account.pk)

    @admin.display(description="owner", ordering="user__email")
    def owner_email(self, account: Account) -> str:
        return account.user.email

    @admin.display(description="balance", ordering="balance")
    def balance_display(self, account: Account):
        return money_html(account.balance, account.currency)

    @admin.display(description="held")
    def held_display(self, account: Account):
        return money_html(_held(account), account.currency)

    @admin.display(description="available")
    def available_display(self, account: Account):
        available = account.balance - _held(account) + account.overdraft_limit
        return money_html(available, account.currency)

    @admin.display(description="overdraft limit")
    def overdraft_display(self, account: Account):
        return money_html(account.overdraft_limit, account.currency)

    @admin.display(description="daily outflow limit")
    def daily_outflow_display(self, account: Account):
        if account.daily_outflow_limit is None:
            return "none"
        return money_html(account.daily_outflow_limit, account.currency)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_post_funds": is_system_user(request.user)}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_status_permission(self, request) -> bool:
        """Django admin asks this for actions declared with `permissions=["status"]`."""
        return is_system_user(request.user)

    def _change_status(self, request, queryset, service, done_message: str) -> None:
        reason = request.POST.get("reason", "")
        changed = 0
        for account_id in queryset.values_list("id", flat=True):
            try:
                service(account_id=str(account_id), actor=request.user, reason=reason)
            except ApplicationError as refusal:
                self.message_user(request, f"{account_id}: {error_line(refusal)}", messages.ERROR)
            else:
                changed += 1
        if changed:
            self.message_user(request, f"{done_message}: {changed} account(s).", messages.SUCCESS)

    @admin.action(description="Freeze selected accounts", permissions=["status"])
    def freeze(self, request, queryset):
        self._change_status(request, queryset, account_freeze, "Frozen")

    @admin.action(description="Unfreeze selected accounts", permissions=["status"])
    def unfreeze(self, request, queryset):
        self._change_status(request, queryset, account_unfreeze, "Unfrozen")

    @admin.action(description="Close selected accounts (zero balance only)", permissions=["status"])
    def close(self, request, queryset):
        self._change_status(request, queryset, account_close, "Closed")

    @admin.action(description="Set limits of selected accounts", permissions=["status"])
    def set_limits(self, request, queryset):
        form = StatusActionForm(request.POST)
        form.is_valid()
        data = getattr(form, "cleaned_data", {})
        overdraft = data.get("overdraft_limit")
        daily = (data.get("daily_outflow_limit") or "").strip()
        try:
            daily_value = UNCHANGED if not daily else None if daily == "none" else Decimal(daily)
        except InvalidOperation:
            self.message_user(request, "Daily outflow limit: an amount or none.", messages.ERROR)
            return
        service = partial(
            account_limits_set, overdraft_limit=overdraft, daily_outflow_limit=daily_value
        )
        self._change_status(request, queryset, service, "Limits set")


@admin.register(AccountStatusChange)
class AccountStatusChangeAdmin(SearchByIdMixin, StaffBrowseOnlyMixin, admin.ModelAdmin):
    """The audit trail of status changes: read-only."""

    list_display = (
        "created_at",
        "account_id_display",
        "from_status",
        "to_status",
        "actor",
        "reason",
    )
    list_filter = (AccountFilter, "to_status", "created_at")
    list_select_related = ("actor",)
    search_fields = ("actor__email", "reason")
    id_search_fields = ("account_id",)
    ordering = ("-id",)
    fields = ("account", "from_status", "to_status", "actor", "reason", "created_at")
    readonly_fields = fields

    @admin.display(description="account", ordering="account_id")
    def account_id_display(self, change: AccountStatusChange):
        return id_html(change.account_id, link_to="accounts_account")

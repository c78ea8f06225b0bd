import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from accounts.models import Account
from bankledger.core.admin_mixins import SearchByIdMixin, StaffBrowseOnlyMixin, is_system_user
from bankledger.core.errors import ApplicationError
from bankledger.core.money import format_minor_units, parse_amount
from ledger.exceptions import TransferRefused
from transactions.models import Transaction
from transactions.services import initial_funds_create

_FIELDS = (
    "id",
    "kind",
    "status",
    "from_account",
    "to_account",
    "amount_display",
    "initiator",
    "idempotency_key",
    "failure_code",
    "failure_message",
    "created_at",
    "updated_at",
)


def _new_key() -> str:
    return f"admin-{uuid.uuid4()}"


class InitialFundsForm(forms.Form):
    """The funding page. The key is filled in when the page is drawn, so submitting the same
    page twice replays the first posting instead of funding the account twice."""

    amount = forms.CharField(
        max_length=40, label="Amount", help_text="In major units, e.g. 500 or 500.50."
    )
    idempotency_key = forms.CharField(
        max_length=255,
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
        label="Idempotency key",
        help_text="Leave as is; a new one is generated when empty.",
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        # Search accounts by owner email or id, as on the accounts page; first on the page.
        picker = AutocompleteSelect(Transaction._meta.get_field("to_account"), admin_site)
        account = forms.ModelChoiceField(Account.objects.all(), widget=picker, label="Account")
        self.fields = {"account": account, **self.fields}

    def clean_amount(self):
        amount = parse_amount(self.cleaned_data["amount"])
        if amount is None or amount <= 0:
            raise forms.ValidationError("Enter a positive amount such as 500 or 500.50.")
        return amount


@admin.register(Transaction)
class TransactionAdmin(SearchByIdMixin, StaffBrowseOnlyMixin, admin.ModelAdmin):
    """Read-only for everyone; system users post initial funds from a page of their own that
    calls the same service as `POST /api/transactions/system/initial-funds`."""

    list_display = (
        "id",
        "created_at",
        "kind",
        "status",
        "from_account",
        "to_account",
        "amount_display",
        "idempotency_key",
    )
    list_filter = ("status", "kind", "created_at")
    list_select_related = ("from_account", "to_account")
    search_fields = ("=idempotency_key",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    fields = _FIELDS
    readonly_fields = _FIELDS

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, tx: Transaction) -> str:
        return f"{format_minor_units(tx.amount, tx.currency)} {tx.currency}"

    def get_urls(self):
        funding = path(
            "initial-funds/",
            self.admin_site.admin_view(self.initial_funds_view),
            name="transactions_transaction_initial_funds",
        )
        return [funding, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_post_funds": is_system_user(request.user)}
        return super().changelist_view(request, extra_context)

    def initial_funds_view(self, request):
        if not is_system_user(request.user):
            raise PermissionDenied
        if request.method != "POST":
            initial = {"account": _account_param(request), "idempotency_key": _new_key()}
            form = InitialFundsForm(initial=initial, admin_site=self.admin_site)
            return self._render_funding_page(request, form)
        form = InitialFundsForm(request.POST, admin_site=self.admin_site)
        if not form.is_valid():
            return self._render_funding_page(request, form)
        key = form.cleaned_data["idempotency_key"] or _new_key()
        try:
            result = initial_funds_create(
                initiator=request.user,
                to_account_id=str(form.cleaned_data["account"].pk),
                amount=form.cleaned_data["amount"],
                idempotency_key=key,
            )
        except TransferRefused as refusal:
            # Recorded as FAILED and replayed for this key: the next attempt needs a new one.
            self.message_user(
                request,
                f"Refused: {refusal.message} Recorded as FAILED transaction "
                f"{refusal.transaction.pk} under key {key}; a new key is filled in below.",
                messages.ERROR,
            )
            data = request.POST.copy()
            data["idempotency_key"] = _new_key()
            form = InitialFundsForm(data, admin_site=self.admin_site)
        except ApplicationError as refusal:
            errors = refusal.extra.get("errors", {})
            details = " ".join(msg for msgs in errors.values() for msg in msgs)
            self.message_user(request, f"Refused: {refusal.message} {details}".strip(), "error")
        else:
            self._report_posted(request, result, key)
            return redirect(
                reverse("admin:transactions_transaction_change", args=[result.transaction.pk])
            )
        return self._render_funding_page(request, form)

    def _report_posted(self, request, result, key: str) -> None:
        tx = result.transaction
        if result.replayed:
            text = f"Already processed under key {key}: transaction {tx.pk} ({tx.status})."
            self.message_user(request, text, messages.WARNING)
            return
        amount = f"{format_minor_units(tx.amount, tx.currency)} {tx.currency}"
        text = f"Posted {amount} to account {tx.to_account_id}: transaction {tx.pk}, key {key}."
        self.message_user(request, text, messages.SUCCESS)

    def _render_funding_page(self, request, form: InitialFundsForm) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Post initial funds",
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/transactions/initial_funds.html", context)


def _account_param(request) -> str | None:
    """`?account=<id>` preselects an account (the link on an account's page)."""
    value = request.GET.get("account", "")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None

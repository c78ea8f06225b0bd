"""The admin's "Post initial funds" page: the same service as
`POST /api/transactions/system/initial-funds`, made safe to submit twice.

- The page carries an idempotency key drawn with it: a double click or a resubmitted page
  replays the first posting instead of posting again.
- A page drawn afresh (Back, reload, a second tab) has a new key. So before posting, the page
  looks for a posting that the same system user made to the same account for the same amount
  within `ADMIN_REPEAT_WINDOW` seconds; if there is one it asks for an explicit confirmation
  that names it. The look and the posting run under one lock per (user, account), so two tabs
  submitted at the same moment cannot both pass the look."""

import uuid
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from accounts.admin import account_label
from accounts.models import Account
from accounts.selectors import accounts_search
from bankledger.core.admin_mixins import is_system_user
from bankledger.core.errors import ApplicationError, error_line
from bankledger.core.ids import short_id
from bankledger.core.locks import cache_lock
from bankledger.core.money import (
    AMOUNT_FORMAT,
    currency_exponent,
    format_money,
    parse_amount,
    to_minor_units,
)
from ledger.exceptions import TransferRefused
from transactions.models import Transaction
from transactions.selectors import initial_funds_repeat
from transactions.services import initial_funds_create

PICKER_PAGE_SIZE = 20


def _new_key() -> str:
    return f"admin-{uuid.uuid4()}"


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, account: Account) -> str:
        return account_label(account)


class AccountPicker(AutocompleteSelect):
    """Django's select2 autocomplete, fed by the funding page's own search (`accounts_search`:
    owner email, name or any part of the id, never a funding account) instead of the generic
    one, which can only show `str(account)` and would offer funding accounts."""

    def __init__(self, admin_site, url_name: str):
        super().__init__(Transaction._meta.get_field("to_account"), admin_site)
        self.url_name = url_name

    def get_url(self) -> str:
        return reverse(f"{self.admin_site.name}:{self.url_name}")


class InitialFundsForm(forms.Form):
    amount = forms.CharField(
        max_length=40, label="Amount", help_text="In major units, e.g. 500 or 500.50."
    )
    idempotency_key = forms.CharField(
        max_length=255,
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"class": "vTextField", "autocomplete": "off"}),
        label="Idempotency key",
        help_text="Leave as is: it makes submitting this page twice post once.",
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        account = AccountChoiceField(
            accounts_search(term=""),
            widget=AccountPicker(admin_site, "transactions_transaction_initial_funds_accounts"),
            label="Account",
            help_text="Search by the owner's email or name, or by any part of the account's id.",
        )
        self.fields = {"account": account, **self.fields}

    def clean_amount(self):
        amount = parse_amount(self.cleaned_data["amount"])
        if amount is None or amount <= 0:
            raise forms.ValidationError(f"Enter {AMOUNT_FORMAT}.")
        return amount


def _minor_units(account: Account, amount) -> int | None:
    return to_minor_units(amount, currency_exponent(account.currency) or 0)


class InitialFundsPageMixin:
    """The funding page and its account search, for the transactions' ModelAdmin."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "initial-funds/",
                view(self.initial_funds_view),
                name="transactions_transaction_initial_funds",
            ),
            path(
                "initial-funds/accounts/",
                view(self.initial_funds_accounts_view),
                name="transactions_transaction_initial_funds_accounts",
            ),
            *super().get_urls(),
        ]

    def initial_funds_accounts_view(self, request):
        """The picker's search results, in the JSON select2 reads."""
        if not is_system_user(request.user):
            raise PermissionDenied
        pages = Paginator(accounts_search(term=request.GET.get("term", "")), PICKER_PAGE_SIZE)
        page = pages.get_page(request.GET.get("page"))
        results = [{"id": str(a.pk), "text": account_label(a)} for a in page]
        return JsonResponse({"results": results, "pagination": {"more": page.has_next()}})

    def initial_funds_view(self, request):
        if not is_system_user(request.user):
            raise PermissionDenied
        if request.method != "POST":
            initial = {"account": _account_param(request), "idempotency_key": _new_key()}
            return self._funding_page(request, InitialFundsForm(initial=initial, **self._site()))
        data = request.POST.copy()
        data["idempotency_key"] = data.get("idempotency_key") or _new_key()
        form = InitialFundsForm(data, **self._site())
        if not form.is_valid():
            return self._funding_page(request, form)
        account = form.cleaned_data["account"]
        with cache_lock(f"initial-funds:{request.user.pk}:{account.pk}"):
            earlier = self._repeat(request, form)
            if earlier is not None and request.POST.get("confirm_repeat") != str(earlier.pk):
                return self._funding_page(request, form, earlier=earlier)
            return self._post(request, form)

    def _site(self) -> dict:
        return {"admin_site": self.admin_site}

    def _repeat(self, request, form) -> Transaction | None:
        account, amount = form.cleaned_data["account"], form.cleaned_data["amount"]
        minor = _minor_units(account, amount)
        if minor is None:  # more decimals than the currency has: the service refuses it
            return None
        return initial_funds_repeat(
            initiator=request.user,
            account=account,
            amount=minor,
            idempotency_key=form.cleaned_data["idempotency_key"],
            since=timezone.now() - timedelta(seconds=settings.ADMIN_REPEAT_WINDOW),
        )

    def _post(self, request, form):
        key = form.cleaned_data["idempotency_key"]
        try:
            result = initial_funds_create(
                initiator=request.user,
                to_account_id=str(form.cleaned_data["account"].pk),
                amount=form.cleaned_data["amount"],
                idempotency_key=key,
            )
        except TransferRefused as refusal:
            # Recorded as FAILED and replayed for this key: the next attempt needs a new one.
            text = f"Refused: {error_line(refusal)} A new key is filled in below."
            self.message_user(request, text, messages.ERROR)
            data = request.POST.copy()
            data["idempotency_key"] = _new_key()
            return self._funding_page(request, InitialFundsForm(data, **self._site()))
        except ApplicationError as refusal:
            self.message_user(request, f"Refused: {error_line(refusal)}", messages.ERROR)
            return self._funding_page(request, form)
        self._report_posted(request, result, key)
        return redirect(
            reverse("admin:transactions_transaction_change", args=[result.transaction.pk])
        )

    def _report_posted(self, request, result, key: str) -> None:
        tx = result.transaction
        if result.replayed:
            text = (
                f"This page was submitted before: it posted once, as transaction {tx.pk} "
                f"({tx.status}, key {key}). Nothing was posted again."
            )
            self.message_user(request, text, messages.WARNING)
            return
        amount = format_money(tx.amount, tx.currency)
        text = f"Posted {amount} to account {tx.to_account_id}: transaction {tx.pk}, key {key}."
        self.message_user(request, text, messages.SUCCESS)

    def _funding_page(self, request, form, *, earlier: Transaction | None = None):
        context = {
            **self.admin_site.each_context(request),
            "title": "Post initial funds",
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
            "earlier": earlier and _earlier_context(earlier),
        }
        return TemplateResponse(request, "admin/transactions/initial_funds.html", context)


def _earlier_context(earlier: Transaction) -> dict:
    return {
        "pk": earlier.pk,
        "short_id": short_id(earlier.pk),
        "amount": format_money(earlier.amount, earlier.currency),
        "account": account_label(earlier.to_account),
        "created_at": earlier.created_at,
        "key": earlier.idempotency_key,
        "status": earlier.status,
    }


def _account_param(request) -> str | None:
    """`?account=<id>` preselects an account (the link on an account's page)."""
    value = request.GET.get("account", "")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None

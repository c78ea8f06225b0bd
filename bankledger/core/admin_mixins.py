"""What every model admin of this project shares: who may see and do what, and search by id.

Admin permissions follow the user's flags, not Django's per-model permission rows: any active
staff user may browse every model, nobody adds, edits or deletes a row through the admin (all
writes go through the services), and only system users run the service-backed actions and
pages. Superusers get no more than that: the ledger is read-only for everyone."""

import uuid

from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from bankledger.core.ids import id_contains, id_fragment, short_id
from bankledger.core.money import format_money


def is_staff(user) -> bool:
    return bool(user.is_active and user.is_staff)


def is_system_user(user) -> bool:
    """May post initial funds and change account status from the admin."""
    return is_staff(user) and bool(getattr(user, "is_system", False))


def id_html(value, *, link_to: str | None = None):
    """A short id for a list cell, the full id in its tooltip; linked to `link_to`'s change
    page (an admin URL name such as `accounts_account`) when given."""
    if value is None:
        return "-"
    text = format_html('<span class="short-id" title="{}">{}</span>', value, short_id(value))
    if link_to is None:
        return text
    return format_html(
        '<a href="{}">{}</a>', reverse(f"admin:{link_to}_change", args=[value]), text
    )


def money_html(minor: int, currency: str):
    """An amount for the admin: grouped, with its currency, right-aligned by the stylesheet."""
    return format_html('<span class="money">{}</span>', format_money(minor, currency))


class StaffBrowseOnlyMixin:
    """Any staff user may look; no one may add, change or delete."""

    def has_module_permission(self, request) -> bool:
        return is_staff(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_staff(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SearchByIdMixin:
    """Besides the text `search_fields`, a search word that is a UUID (in any spelling) finds
    rows whose `id_search_fields` equal it, and a word that looks like part of one (a short id
    from a list page, at least 4 hex digits) finds rows whose id contains it. Django's own
    `=id` compares the id cast to text, which is spelt differently on SQLite (no dashes) and
    PostgreSQL."""

    id_search_fields: tuple[str, ...] = ("id",)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        by_id = Q()
        for word in search_term.split():
            by_id |= self._id_match(word)
        if by_id:
            results |= queryset.filter(by_id)
        return results, may_have_duplicates

    def _id_match(self, word: str) -> Q:
        match = Q()
        try:
            full = uuid.UUID(word)
        except ValueError:
            fragment = id_fragment(word)
            for field in self.id_search_fields if fragment else ():
                match |= id_contains(field, fragment)
            return match
        for field in self.id_search_fields:
            match |= Q(**{field: full})
        return match

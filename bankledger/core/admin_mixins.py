"""What every model admin of this project shares: who may see and do what, and search by id.

Admin permissions follow the user's flags, not Django's per-model permission rows: any active
staff user may browse every model, nobody adds, edits or deletes a row through the admin (all
writes go through the services), and only system users run the service-backed actions and
pages. Superusers get no more than that: the ledger is read-only for everyone."""

import uuid

from django.db.models import Q


def is_staff(user) -> bool:
    return bool(user.is_active and user.is_staff)


def is_system_user(user) -> bool:
    """May post initial funds and change account status from the admin."""
    return is_staff(user) and bool(getattr(user, "is_system", False))


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


def _uuids(search_term: str) -> list[uuid.UUID]:
    found = []
    for word in search_term.split():
        try:
            found.append(uuid.UUID(word))
        except ValueError:
            continue
    return found


class SearchByIdMixin:
    """Besides the text `search_fields`, a search term that is a UUID (in any spelling) finds
    rows whose `id_search_fields` equal it. Django's own `=id` compares the id cast to text,
    which is spelt differently on SQLite (no dashes) and PostgreSQL."""

    id_search_fields: tuple[str, ...] = ("id",)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        ids = _uuids(search_term)
        if ids:
            by_id = Q()
            for field in self.id_search_fields:
                by_id |= Q(**{f"{field}__in": ids})
            results |= queryset.filter(by_id)
        return results, may_have_duplicates

from django.contrib import admin

from bankledger.core.admin_mixins import SearchByIdMixin, StaffBrowseOnlyMixin
from users.models import User

_FIELDS = (
    "id",
    "email",
    "name",
    "is_system",
    "is_staff",
    "is_active",
    "is_superuser",
    "last_login",
    "created_at",
    "updated_at",
)


@admin.register(User)
class UserAdmin(SearchByIdMixin, StaffBrowseOnlyMixin, admin.ModelAdmin):
    """Browse only: users register through the API, system users come from
    `create_system_user`. The password hash is never shown."""

    list_display = ("email", "name", "is_system", "is_staff", "is_active", "created_at")
    list_filter = ("is_system", "is_staff", "is_active")
    search_fields = ("email", "name")
    ordering = ("email",)
    fields = _FIELDS
    readonly_fields = _FIELDS

from django.contrib import admin, messages

from bankledger.core.admin_mixins import SearchByIdMixin, StaffBrowseOnlyMixin, is_system_user
from users.models import ApiKey, User
from users.services import api_keys_revoke_any

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


@admin.register(ApiKey)
class ApiKeyAdmin(SearchByIdMixin, StaffBrowseOnlyMixin, admin.ModelAdmin):
    """Every API key (never a secret: only its hash exists, and that is not shown). Staff
    browse; only system users revoke."""

    list_display = (
        "prefix",
        "name",
        "user",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("prefix", "name", "user__email")
    exclude = ("secret_hash",)
    ordering = ("-created_at",)
    actions = ["revoke"]

    def has_revoke_permission(self, request) -> bool:
        return is_system_user(request.user)

    @admin.action(description="Revoke the selected keys", permissions=["revoke"])
    def revoke(self, request, queryset):
        count = api_keys_revoke_any(key_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} key(s) revoked.", messages.SUCCESS)

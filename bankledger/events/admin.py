from django.contrib import admin, messages

from bankledger.core.admin_mixins import SearchByIdMixin, StaffBrowseOnlyMixin, is_system_user
from bankledger.events.delivery import webhook_delivery_resend
from bankledger.events.models import Event, Webhook, WebhookAttempt, WebhookDelivery


@admin.register(Event)
class EventAdmin(SearchByIdMixin, StaffBrowseOnlyMixin, admin.ModelAdmin):
    """Every event, numbered or still waiting for the sequencer (seq empty)."""

    list_display = ("seq", "type", "uid", "created_at")
    list_filter = ("type",)
    id_search_fields = ("uid",)
    ordering = ["-id"]


@admin.register(Webhook)
class WebhookAdmin(SearchByIdMixin, StaffBrowseOnlyMixin, admin.ModelAdmin):
    """Endpoints users registered; the signing secret is never shown."""

    list_display = ("url", "owner", "active", "created_at", "deleted_at")
    list_filter = ("active",)
    search_fields = ("url", "owner__email")
    exclude = ("secret",)
    ordering = ["-created_at"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("started_at", "status_code", "latency_ms", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(StaffBrowseOnlyMixin, admin.ModelAdmin):
    """Each event sent to each endpoint, with every attempt's status code and latency. Staff
    browse; only system users send failed deliveries again."""

    list_display = (
        "event",
        "webhook",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status",)
    search_fields = ("webhook__url",)
    list_select_related = ("event", "webhook")
    inlines = [WebhookAttemptInline]
    ordering = ["-created_at"]
    actions = ["resend"]

    def has_resend_permission(self, request) -> bool:
        return is_system_user(request.user)

    @admin.action(description="Send the selected failed deliveries again", permissions=["resend"])
    def resend(self, request, queryset):
        count = webhook_delivery_resend(delivery_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} failed delivery(ies) queued again.", messages.SUCCESS)

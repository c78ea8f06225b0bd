from django.contrib import admin, messages

from bankledger.mail.models import Email
from bankledger.mail.services import email_resend


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    """The outbox, read-only: what was sent, what waits for a retry, what failed and why."""

    list_display = ("key", "to", "subject", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status",)
    search_fields = ("key", "to")
    ordering = ["-created_at"]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Send the selected failed emails again")
    def resend(self, request, queryset):
        count = email_resend(email_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} failed email(s) queued again.", messages.SUCCESS)

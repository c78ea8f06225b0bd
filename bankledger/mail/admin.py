import re

from django.contrib import admin, messages
from django.utils.html import format_html

from bankledger.core.admin_mixins import StaffBrowseOnlyMixin, is_system_user
from bankledger.core.ids import short_id
from bankledger.mail.models import Email
from bankledger.mail.tasks import email_resend

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@admin.register(Email)
class EmailAdmin(StaffBrowseOnlyMixin, admin.ModelAdmin):
    """The outbox, read-only: what was sent, what waits for a retry, what failed and why.
    Any staff user may look; only system users may send failed emails again."""

    list_display = ("key_display", "to", "subject", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status",)
    search_fields = ("key", "to")
    ordering = ["-created_at"]
    actions = ["resend"]

    @admin.display(description="key", ordering="key")
    def key_display(self, email: Email):
        """`transfer:<id>:debit` with the id in its short form; the full key in the tooltip."""
        short = _UUID.sub(lambda match: short_id(match.group()), email.key)
        return format_html('<span title="{}">{}</span>', email.key, short)

    def has_resend_permission(self, request) -> bool:
        return is_system_user(request.user)

    @admin.action(description="Send the selected failed emails again", permissions=["resend"])
    def resend(self, request, queryset):
        count = email_resend(email_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} failed email(s) queued again.", messages.SUCCESS)

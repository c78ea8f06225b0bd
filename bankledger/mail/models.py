from django.db import models
from django.db.models import Q

from bankledger.core.ids import new_id


class EmailStatus(models.TextChoices):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class Email(models.Model):
    """One outgoing message, rendered once. Its key allows one message per event, and its
    status is claimed atomically before each send, so a message is never sent twice."""

    Status = EmailStatus

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    key = models.CharField(
        max_length=200, help_text="The event this message is about, e.g. transfer:<id>:debit."
    )
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=255)
    text = models.TextField()
    html = models.TextField()
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key"], name="mail_email_key_unique"),
            models.CheckConstraint(condition=~Q(key=""), name="mail_email_key_not_empty"),
            models.CheckConstraint(
                condition=Q(status__in=EmailStatus.values),
                name="mail_email_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="SENT", sent_at__isnull=False)
                | (~Q(status="SENT") & Q(sent_at__isnull=True)),
                name="mail_email_sent_at_iff_sent",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.key} to {self.to} ({self.status})"

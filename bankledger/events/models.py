import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from bankledger.core.ids import new_id
from bankledger.events.types import EVENT_TYPES


class Event(models.Model):
    """One change, written in the database transaction of the change itself. `seq` is null
    until the sequencer numbers the committed rows, in commit order, after the commit: a reader
    that polls by `seq` therefore never skips a row that committed late.

    `audience` holds the ids of the users who may see it, fixed at write time; the sequencer
    copies it into `EventAudience`, the index `GET /events` reads."""

    id = models.BigAutoField(primary_key=True)
    uid = models.UUIDField(default=new_id, unique=True, editable=False)
    seq = models.BigIntegerField(null=True, blank=True, editable=False)
    type = models.CharField(max_length=32, choices=[(t, t) for t in EVENT_TYPES])
    data = models.JSONField(encoder=DjangoJSONEncoder)
    audience = models.JSONField(encoder=DjangoJSONEncoder, default=list)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seq"], name="events_event_seq_unique"),
            models.CheckConstraint(
                condition=Q(seq__isnull=True) | Q(seq__gt=0), name="events_event_seq_positive"
            ),
            models.CheckConstraint(
                condition=Q(type__in=EVENT_TYPES), name="events_event_type_valid"
            ),
        ]
        indexes = [
            # The sequencer's work list: the rows not numbered yet, and only those.
            models.Index(fields=["id"], condition=Q(seq__isnull=True), name="events_unsequenced"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.uid} (seq {self.seq})"


class EventAudience(models.Model):
    """Who may see a numbered event: one row per (user, event), keyed for the user's poll."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="audience_rows")
    seq = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "seq"], name="events_audience_user_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} sees {self.seq}"


class EventSequence(models.Model):
    """The one row the sequencer locks: whoever holds it numbers events; `last_seq` is the
    highest number given so far."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="events_sequence_single_row"),
            models.CheckConstraint(
                condition=Q(last_seq__gte=0), name="events_sequence_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"last seq {self.last_seq}"


class Webhook(models.Model):
    """An endpoint a user registered. The secret is kept as given out (`whsec_` + base64):
    Standard Webhooks signs with HMAC, so the service needs the key itself, not a hash."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="webhooks"
    )
    url = models.URLField(max_length=2048)
    events = models.JSONField(help_text="The event types it receives.")
    description = models.CharField(max_length=500, blank=True, default="")
    secret = models.CharField(max_length=100, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(secret__startswith="whsec_"), name="events_webhook_secret_format"
            ),
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True) | Q(active=False),
                name="events_webhook_deleted_is_inactive",
            ),
        ]
        indexes = [models.Index(fields=["owner", "created_at"])]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint, until a 2xx (DELIVERED) or the retry window ends (FAILED).
    `next_attempt_at` is also the lease of a worker that claimed it: a claim pushes it past the
    request timeout, so a worker that died mid-attempt leaves it due again (at least once)."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        DELIVERED = "DELIVERED"
        FAILED = "FAILED"

    id = models.BigAutoField(primary_key=True)
    webhook = models.ForeignKey(Webhook, on_delete=models.PROTECT, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    retry_since = models.DateTimeField(help_text="Start of the retry window (reset by a re-send).")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event"], name="events_delivery_once"),
            models.CheckConstraint(
                condition=Q(status__in=["PENDING", "DELIVERED", "FAILED"]),
                name="events_delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="DELIVERED", delivered_at__isnull=False)
                | (~Q(status="DELIVERED") & Q(delivered_at__isnull=True)),
                name="events_delivery_delivered_at_iff_delivered",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="PENDING"),
                name="events_delivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} to {self.webhook_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the endpoint answered and how long it took."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["delivery", "started_at"])]

    def __str__(self) -> str:
        return f"{self.status_code or self.error[:40]} in {self.latency_ms} ms"

"""Reads of events, webhooks and deliveries, scoped to the caller."""

from django.db.models import QuerySet

from bankledger.events.models import Event, Webhook, WebhookDelivery


def event_list(*, user, after: int, limit: int, type: str | None = None) -> list[Event]:
    """The numbered events the caller may see with `seq > after`, oldest first: a system user
    sees every event, anyone else those whose audience they are in."""
    if user.is_system:
        events = Event.objects.filter(seq__gt=after).order_by("seq")
    else:
        events = Event.objects.filter(
            audience_rows__user_id=user.id, audience_rows__seq__gt=after
        ).order_by("audience_rows__seq")
    if type:
        events = events.filter(type=type)
    return list(events[:limit])


def webhook_list(*, owner) -> QuerySet[Webhook]:
    return Webhook.objects.filter(owner=owner, deleted_at__isnull=True).order_by("created_at")


def webhook_delivery_failed_list() -> QuerySet[WebhookDelivery]:
    """Deliveries that ran out of retries, oldest first."""
    return (
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED)
        .select_related("webhook", "event")
        .order_by("created_at")
    )

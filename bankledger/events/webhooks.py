"""Webhook endpoints: registration, removal, and the events consumer that queues a delivery
for every endpoint that may see an event and subscribed to its type."""

import base64
import secrets

from django.db import transaction
from django.utils import timezone

from bankledger.core.ids import parse_id
from bankledger.events.addresses import url_check
from bankledger.events.exceptions import UnknownEventType, WebhookNotFound
from bankledger.events.models import Event, Webhook, WebhookDelivery
from bankledger.events.types import EVENT_TYPES
from users.quotas import quota_check


def _new_secret() -> str:
    """`whsec_` and the base64 of 24 random bytes, the Standard Webhooks secret format."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def webhook_create(
    *, owner, url: str, events: list[str] | None = None, description: str = ""
) -> Webhook:
    """Register an endpoint for `events` (default: every type). The URL is checked here and
    again before every delivery. The returned webhook's `secret` is shown to the caller once."""
    chosen = list(EVENT_TYPES) if not events else list(dict.fromkeys(events))
    unknown = [name for name in chosen if name not in EVENT_TYPES]
    if unknown:
        raise UnknownEventType(extra={"errors": {"events": [f"Unknown: {', '.join(unknown)}"]}})
    url_check(url)
    with transaction.atomic():
        owned = Webhook.objects.filter(owner=owner, deleted_at__isnull=True)
        quota_check(user=owner, quota="webhooks", owned=owned)
        return Webhook.objects.create(
            owner=owner, url=url, events=chosen, description=description, secret=_new_secret()
        )


def webhook_delete(*, owner, webhook_id: str) -> None:
    """Stop deliveries to the caller's endpoint for good. The row stays (deleted) so the admin
    keeps its delivery history; another user's webhook is a 404."""
    key = parse_id(webhook_id, not_found=WebhookNotFound)
    removed = Webhook.objects.filter(id=key, owner=owner, deleted_at__isnull=True).update(
        active=False, deleted_at=timezone.now()
    )
    if not removed:
        raise WebhookNotFound()


def webhook_deliveries_create(*, events: list[Event]) -> None:
    """The events consumer: one PENDING delivery per (endpoint, event) where the endpoint's
    owner may see the event (a system user sees all) and subscribed to its type. Runs in the
    sequencer's transaction, so deliveries exist exactly when their events are numbered."""
    hooks = list(
        Webhook.objects.filter(active=True, deleted_at__isnull=True).select_related("owner")
    )
    if not hooks:
        return
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        (
            WebhookDelivery(webhook=hook, event=event, next_attempt_at=now, retry_since=now)
            for event in events
            for hook in hooks
            if event.type in hook.events
            and (hook.owner.is_system or str(hook.owner_id) in event.audience)
        ),
        ignore_conflicts=True,
    )

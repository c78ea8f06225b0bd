"""Sending webhook deliveries: claim what is due, POST it signed (Standard Webhooks), record
the attempt, schedule the retry. Nothing here runs inside another database transaction than
its own short ones, and never while a request is in flight: a slow endpoint holds a worker
thread, never a lock."""

import functools
import json
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import standardwebhooks
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from bankledger.events.addresses import url_check
from bankledger.events.exceptions import InvalidWebhookUrl
from bankledger.events.models import Event, Webhook, WebhookAttempt, WebhookDelivery
from bankledger.events.serializers import EVENT_OUTPUT

logger = logging.getLogger(__name__)
Status = WebhookDelivery.Status


def event_body(event: Event) -> str:
    """The event exactly as `GET /events` renders it, as compact JSON text."""
    return json.dumps(EVENT_OUTPUT.to_representation(event), separators=(",", ":"))


def signed_headers(*, webhook: Webhook, event: Event, body: str) -> dict[str, str]:
    """Standard Webhooks headers, signed with the endpoint's secret by the maintained library.
    Every attempt is signed afresh (the timestamp is the attempt's), over the same id and body."""
    now = datetime.now(UTC)
    return {
        "webhook-id": str(event.uid),
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": standardwebhooks.Webhook(webhook.secret).sign(
            str(event.uid), now, body
        ),
        "content-type": "application/json",
        "user-agent": "bankledger-webhooks/1",
    }


def _post(url: str, host: str, address, body: str, headers: dict) -> int:
    """POST to the address that was checked, not to whatever the name resolves to by now; the
    Host header and TLS (SNI and certificate check) still use the name. No proxy from the
    environment and no redirects: either would lead somewhere unchecked."""
    target = httpx.URL(url)
    pinned = target.copy_with(host=str(address))
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    headers = {**headers, "host": target.netloc.decode()}
    with _client().stream(
        "POST",
        pinned,
        content=body.encode(),
        headers=headers,
        extensions=extensions,
        timeout=settings.WEBHOOK_TIMEOUT,
    ) as response:
        return response.status_code


@functools.cache
def _client() -> httpx.Client:
    """One client for every delivery (building one, with its TLS context, costs about 20 ms of
    CPU). No keep-alive: a pooled connection is keyed by the pinned address, and handing it to
    another host name on that address would skip that name's certificate check."""
    return httpx.Client(trust_env=False, limits=httpx.Limits(max_keepalive_connections=0))


def _next_delay(attempts: int) -> float:
    return min(
        settings.WEBHOOK_RETRY_BACKOFF * 2 ** (attempts - 1), settings.WEBHOOK_RETRY_MAX_DELAY
    )


def _record(delivery: WebhookDelivery, started, latency_ms: int, code: int | None, error: str):
    now = timezone.now()
    if code is not None and 200 <= code < 300:
        outcome = {"status": Status.DELIVERED, "delivered_at": now, "last_error": ""}
    elif (now - delivery.retry_since).total_seconds() >= settings.WEBHOOK_RETRY_WINDOW:
        outcome = {"status": Status.FAILED, "last_error": error}
    else:
        delay = timedelta(seconds=_next_delay(delivery.attempts))
        outcome = {"next_attempt_at": now + delay, "last_error": error}
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            started_at=started,
            status_code=code,
            latency_ms=latency_ms,
            error=error,
        )
        WebhookDelivery.objects.filter(id=delivery.id, status=Status.PENDING).update(
            last_status_code=code, **outcome
        )
    return outcome.get("status", Status.PENDING)


def webhook_deliver(*, delivery_id: int) -> str:
    """One attempt of a claimed delivery; returns its status afterwards."""
    delivery = WebhookDelivery.objects.select_related("webhook", "event").get(id=delivery_id)
    webhook, event = delivery.webhook, delivery.event
    if delivery.status != Status.PENDING:
        return delivery.status
    body = event_body(event)
    started, clock = timezone.now(), time.monotonic()
    code, error = None, ""
    try:
        host, address = url_check(webhook.url)
        code = _post(
            webhook.url,
            host,
            address,
            body,
            signed_headers(webhook=webhook, event=event, body=body),
        )
        error = "" if 200 <= code < 300 else f"HTTP {code}"
    except InvalidWebhookUrl as exc:
        error = f"refused: {exc.message}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = int((time.monotonic() - clock) * 1000)
    return _record(delivery, started, latency_ms, code, error)


def _lease() -> timedelta:
    """How long a claim keeps a delivery from other workers: longer than any attempt takes."""
    return timedelta(seconds=2 * (settings.WEBHOOK_TIMEOUT + settings.WEBHOOK_DNS_TIMEOUT) + 30)


def webhook_deliveries_claim(*, limit: int, busy: Counter) -> list[tuple[int, object]]:
    """Claim up to `limit` due deliveries, at most WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT per
    endpoint counting those in `busy`, oldest due first. Each claim is a conditional update, so
    two workers never claim the same delivery at once; a claim also counts the attempt."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(
        status=Status.PENDING, next_attempt_at__lte=now, webhook__active=True
    ).order_by("next_attempt_at")
    taken, claimed = Counter(busy), []
    for delivery_id, webhook_id in due.values_list("id", "webhook_id")[: limit * 4]:
        if len(claimed) >= limit:
            break
        if taken[webhook_id] >= settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT:
            continue
        won = WebhookDelivery.objects.filter(
            id=delivery_id, status=Status.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + _lease(), attempts=F("attempts") + 1)
        if won:
            taken[webhook_id] += 1
            claimed.append((delivery_id, webhook_id))
    return claimed


class DeliveryDispatcher:
    """Runs deliveries on a thread pool, each endpoint limited to a few at once, so a receiver
    that hangs ties up its own share of threads and never the others' deliveries."""

    def __init__(self, threads: int | None = None):
        self.threads = threads or settings.WEBHOOK_WORKER_THREADS
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="webhook")
        self._busy: Counter = Counter()
        self._lock = threading.Lock()
        self._freed = threading.Event()

    def dispatch(self) -> int:
        """Claim what is due and start sending it; returns how many were started."""
        self._freed.clear()
        with self._lock:
            busy = Counter({k: v for k, v in self._busy.items() if v > 0})
        free = self.threads - sum(busy.values())
        if free <= 0:
            return 0
        claimed = webhook_deliveries_claim(limit=free, busy=busy)
        for delivery_id, webhook_id in claimed:
            with self._lock:
                self._busy[webhook_id] += 1
            self._pool.submit(self._run, delivery_id, webhook_id)
        return len(claimed)

    def _run(self, delivery_id: int, webhook_id) -> None:
        try:
            close_old_connections()
            webhook_deliver(delivery_id=delivery_id)
        except Exception:
            # The claim's lease runs out and the delivery is tried again: at least once.
            logger.exception("webhook delivery %s failed unexpectedly", delivery_id)
        finally:
            connection.close()
            with self._lock:
                self._busy[webhook_id] -= 1
            self._freed.set()

    def wait(self, timeout: float) -> bool:
        """Sleep until a delivery finishes (its endpoint may take the next one at once; True)
        or `timeout` seconds pass (False). Without it a busy endpoint waits out every idle
        interval between two deliveries, and a backlog drains at a few deliveries a second."""
        return self._freed.wait(timeout)

    def in_flight(self) -> int:
        with self._lock:
            return sum(self._busy.values())

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def webhook_delivery_resend(*, delivery_ids: list) -> int:
    """Queue FAILED deliveries again with a fresh retry window; returns how many."""
    now = timezone.now()
    return WebhookDelivery.objects.filter(id__in=delivery_ids, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=now, retry_since=now
    )

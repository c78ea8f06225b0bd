"""The webhook side of `make chaos`: a receiver on loopback that keeps every delivery, the
events worker beside gunicorn (SIGKILLed now and then like a gunicorn worker), and the end
check: every event of an acknowledged transfer was delivered at least once, and no delivered
event belongs to a transfer that did not happen."""

import json
import signal
import subprocess
import time

import httpx

from tests.chaos.app import PYTHON, ROOT
from tests.chaos.clients import PASSWORD, Outcome, log
from tests.events.servers import Receiver

# The app must accept a receiver on plain HTTP on loopback, and retry soon after a fault.
WEBHOOK_ENV = {
    "WEBHOOK_ALLOW_HTTP": "true",
    "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
    "WEBHOOK_RETRY_BACKOFF": "1",
    "WEBHOOK_TIMEOUT": "5",
    "WEBHOOK_DNS_TIMEOUT": "1",
}


class EventsWorker:
    """`manage.py events_worker` as a process of its own, restartable after a SIGKILL."""

    def __init__(self, env: dict, logfile):
        self.env, self.logfile, self.process = env, logfile, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "manage.py", "events_worker"],
            cwd=ROOT,
            env=self.env,
            stdout=self.logfile.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def kill_and_restart(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.start()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def register(base: str, system_email: str, receiver: Receiver) -> None:
    """The system user (who sees every event) subscribes the receiver to completed movements."""
    with httpx.Client(base_url=base, timeout=30.0) as http:
        token = (
            http.post("/api/auth/login", json={"email": system_email, "password": PASSWORD})
            .raise_for_status()
            .json()["token"]
        )
        http.post(
            "/api/webhooks",
            json={"url": receiver.url(), "events": ["transaction.completed"]},
            headers={"Authorization": f"Bearer {token}"},
        ).raise_for_status()


def wait_delivered(timeout: float) -> float | None:
    """Until every event is numbered and no delivery waits (the worker catches up after the
    faults): the seconds that took, or None after `timeout` seconds."""
    from bankledger.events.models import Event, WebhookDelivery

    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        waiting = Event.objects.filter(seq__isnull=True).exists() or (
            WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.DELIVERED).exists()
        )
        if not waiting:
            return time.monotonic() - started
        time.sleep(1)
    log("webhook deliveries still waiting at the deadline")
    return None


def check(outcomes: list[Outcome], receiver: Receiver) -> dict:
    """Acknowledged transfers and captures whose event never arrived, and arrivals for no
    transaction."""
    from transactions.models import Transaction

    arrived = [json.loads(body) for _headers, body in receiver.requests]
    delivered = {event["data"]["_id"] for event in arrived}
    completed = {
        str(t.id): t
        for t in Transaction.objects.filter(status=Transaction.Status.COMPLETED).only(
            "id", "initiator_id", "idempotency_key"
        )
    }
    by_key = {(str(t.initiator_id), t.idempotency_key): tx_id for tx_id, t in completed.items()}
    # A placed hold moves nothing (its capture is a transaction like a transfer).
    acknowledged = [
        by_key.get((o.user_id, o.key))
        for o in outcomes
        if o.status in (200, 201) and o.operation != "hold"
    ]
    return {
        "deliveries": len(arrived),
        "copies": len(arrived) - len({event["_id"] for event in arrived}),
        "undelivered": [tx for tx in acknowledged if tx not in delivered],
        "phantom": sorted(delivered - set(completed)),
    }

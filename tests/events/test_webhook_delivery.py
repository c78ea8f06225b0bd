"""Webhook deliveries to real HTTP receivers on loopback: signed per Standard Webhooks (checked
with the library's own verifier), retried until delivered, FAILED after the retry window, and
never in the way of transfers or of other endpoints."""

import json
from datetime import timedelta

import pytest
import standardwebhooks
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from bankledger.events.delivery import DeliveryDispatcher
from bankledger.events.models import WebhookAttempt, WebhookDelivery
from bankledger.events.services import events_sequence
from tests.conftest import client_for
from tests.events.test_events_api import poll
from tests.mailserver import Worker, run_manage, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

LOCAL = {"WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"}


def register(user, url, **body):
    response = client_for(user).post("/api/webhooks", {"url": url, **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["secret"]


def run_worker():
    call_command("events_worker", "--once")


def test_the_event_arrives_signed_as_the_library_verifies(
    user, make_account, local_webhooks, receivers
):
    receiver = receivers(200)
    secret = register(user, receiver.url())
    account = make_account(user)
    run_worker()

    [(headers, body)] = receiver.requests
    event = standardwebhooks.Webhook(secret).verify(body, headers)
    assert event == poll(user)["events"][0]
    assert event["type"] == "account.created" and event["data"]["_id"] == str(account.id)
    assert headers["webhook-id"] == event["_id"]
    [attempt] = WebhookAttempt.objects.all()
    assert attempt.status_code == 200 and attempt.latency_ms >= 0
    assert WebhookDelivery.objects.get().status == "DELIVERED"
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify(body.replace("account", "acc0unt"), headers)


def test_a_receiver_that_fails_first_gets_the_event_later_exactly_as_signed(
    user, make_account, local_webhooks, receivers
):
    receiver = receivers(500, 503, 200)
    secret = register(user, receiver.url())
    make_account(user)
    for _ in range(3):
        run_worker()

    assert len(receiver.requests) == 3
    (first_headers, first_body), _, (last_headers, last_body) = receiver.requests
    assert last_body == first_body
    assert last_headers["webhook-id"] == first_headers["webhook-id"]
    assert standardwebhooks.Webhook(secret).verify(last_body, last_headers) == json.loads(
        first_body
    )
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "DELIVERED" and delivery.attempts == 3
    codes = list(delivery.tries.order_by("started_at").values_list("status_code", flat=True))
    assert codes == [500, 503, 200]
    run_worker()
    assert len(receiver.requests) == 3  # delivered: never sent again


def test_retries_back_off_exponentially_then_fail_and_send_again_delivers(
    user, make_account, local_webhooks, receivers
):
    receiver = receivers(500, 500, 200)
    register(user, receiver.url())
    make_account(user)
    local_webhooks.WEBHOOK_RETRY_BACKOFF = 100
    delays = []
    for _ in range(2):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())  # the wait is over
        run_worker()
        run_worker()  # not due again yet: nothing sent
        delivery = WebhookDelivery.objects.get()
        delays.append(delivery.next_attempt_at - delivery.tries.latest("started_at").started_at)
    assert len(receiver.requests) == 2
    assert timedelta(seconds=100) <= delays[0] < timedelta(seconds=150)
    assert timedelta(seconds=200) <= delays[1] < timedelta(seconds=250)

    local_webhooks.WEBHOOK_RETRY_WINDOW = 0  # the retry window is over
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    receiver.statuses = [500]
    run_worker()
    assert WebhookDelivery.objects.get().status == "FAILED"
    run_worker()
    assert len(receiver.requests) == 3

    local_webhooks.WEBHOOK_RETRY_WINDOW = 3600
    receiver.statuses = [200]
    call_command("failed_webhooks", "--resend")
    run_worker()
    assert WebhookDelivery.objects.get().status == "DELIVERED"
    assert len(receiver.requests) == 4


def test_an_endpoint_gets_only_what_its_owner_may_see_and_subscribed_to(
    make_user, make_account, fund, local_webhooks, receivers
):
    alice, bob = make_user(), make_user()
    bobs_receiver = receivers(200)
    register(bob, bobs_receiver.url(), events=["transaction.completed"])
    alices, bobs = make_account(alice), make_account(bob)
    fund(alices, "5.00")
    client_for(alice).post(
        "/api/transactions",
        {
            "fromAccount": str(alices.id),
            "toAccount": str(bobs.id),
            "amount": "1",
            "idempotencyKey": "k",
        },
        format="json",
    )
    run_worker()

    received = [json.loads(body) for _headers, body in bobs_receiver.requests]
    assert [(e["type"], e["data"]["toAccount"]) for e in received] == [
        ("transaction.completed", str(bobs.id))
    ]


def test_a_name_that_later_resolves_to_loopback_is_refused(
    user, make_account, receivers, dns_server, settings
):
    settings.WEBHOOK_ALLOW_HTTP, settings.WEBHOOK_RETRY_BACKOFF = True, 0
    receiver = receivers(200)
    dns_server.answers["hooks.example.test"] = "93.184.216.34"
    register(user, receiver.url("hooks.example.test"))
    dns_server.answers["hooks.example.test"] = "127.0.0.1"  # DNS rebinding
    make_account(user)
    run_worker()

    assert receiver.requests == []
    [attempt] = WebhookAttempt.objects.all()
    assert attempt.status_code is None and attempt.error.startswith("refused:")

    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True  # allowed: delivered to the name's address
    run_worker()
    [(headers, _body)] = receiver.requests
    assert headers["host"] == f"hooks.example.test:{receiver.port}"


def _transfer(client, sender, receiver, key):
    response = client.post(
        "/api/transactions",
        {
            "fromAccount": str(sender.id),
            "toAccount": str(receiver.id),
            "amount": "0.01",
            "idempotencyKey": key,
        },
        format="json",
    )
    assert response.status_code == 201


def test_a_hanging_receiver_neither_holds_up_transfers_nor_other_endpoints(
    make_user, make_account, fund, receivers
):
    """Proved by order, not by the clock: every transfer and the other endpoint's deliveries
    complete while the hanging receiver's attempts are still open (none is recorded yet, and
    the receiver answers nothing until it is stopped, long before the worker's 60 s timeout)."""
    alice, bob = make_user(), make_user()
    alices, bobs = make_account(alice), make_account(bob)
    fund(alices, "100.00")
    client = client_for(alice)
    hanging, healthy = receivers(200, hang=True), receivers(200)
    worker = Worker(**LOCAL, WEBHOOK_TIMEOUT="60", WEBHOOK_RETRY_BACKOFF="0")
    try:
        with_local_rules(lambda: register(alice, hanging.url()))
        with_local_rules(lambda: register(bob, healthy.url()))
        wait_until(lambda: hanging.requests, message="a delivery hanging in the receiver")
        for n in range(15):
            _transfer(client, alices, bobs, f"during-{n}")
        wait_until(lambda: len(healthy.requests) >= 15, message="the other endpoint's deliveries")
        assert len(hanging.requests) <= 2  # its own share of the worker, no more
        assert not WebhookAttempt.objects.filter(delivery__webhook__url=hanging.url()).exists()
    finally:
        hanging.stop()
        worker.stop()


def test_a_finished_delivery_wakes_the_worker_for_its_endpoint_s_next_one(
    user, make_account, local_webhooks, receivers, settings
):
    settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = 1
    receiver = receivers(200)
    register(user, receiver.url())
    make_account(user)
    make_account(user)
    events_sequence()
    dispatcher = DeliveryDispatcher(threads=4)
    try:
        for _ in range(2):
            assert dispatcher.dispatch() == 1  # the endpoint's one slot
            # Woken by the delivery as it finishes, not by the end of the wait.
            assert dispatcher.wait(60) is True
    finally:
        dispatcher.shutdown()
    assert len(receiver.requests) == 2
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"DELIVERED"}


def with_local_rules(call):
    with override_settings(WEBHOOK_ALLOW_HTTP=True, WEBHOOK_ALLOW_PRIVATE_NETWORKS=True):
        return call()


def test_failed_webhooks_lists_them(user, make_account, local_webhooks, receivers):
    receiver = receivers(500)
    register(user, receiver.url())
    make_account(user)
    local_webhooks.WEBHOOK_RETRY_WINDOW = 0
    run_worker()

    listed = run_manage("failed_webhooks", **LOCAL).stdout
    assert "account.created" in listed and receiver.url() in listed and "1 failed" in listed

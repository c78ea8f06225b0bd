"""Webhook deliveries and API keys in the admin: any staff user may look (each attempt's status
code and latency, never a secret); only system users send failed deliveries again or revoke
keys."""

import pytest
from django.core.management import call_command
from django.test import Client

from bankledger.events.models import WebhookDelivery
from bankledger.events.webhooks import webhook_create
from tests.events.servers import Receiver
from users.models import ApiKey
from users.services import api_key_create

pytestmark = pytest.mark.django_db(transaction=True)
DELIVERIES = "/admin/events/webhookdelivery/"
KEYS = "/admin/users/apikey/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def failed_delivery(user, make_account, settings):
    settings.WEBHOOK_ALLOW_HTTP = settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_RETRY_WINDOW = 0
    receiver = Receiver(503)
    webhook_create(owner=user, url=receiver.url())
    make_account(user)
    call_command("events_worker", "--once")
    receiver.stop()
    return WebhookDelivery.objects.get()


def _resend(client, delivery):
    return client.post(
        DELIVERIES, {"action": "resend", "_selected_action": [str(delivery.id)]}, follow=True
    )


def test_staff_see_each_attempt_but_only_system_users_send_again(
    make_user, system_user, failed_delivery
):
    staff = _client(make_user(is_staff=True))
    page = staff.get(f"{DELIVERIES}{failed_delivery.id}/change/").content.decode()
    assert "503" in page and "HTTP 503" in page
    assert failed_delivery.webhook.secret not in page
    assert 'value="resend"' not in staff.get(DELIVERIES).content.decode()
    _resend(staff, failed_delivery)
    assert WebhookDelivery.objects.get().status == "FAILED"

    _resend(_client(system_user), failed_delivery)
    assert WebhookDelivery.objects.get().status == "PENDING"


def test_only_system_users_revoke_keys_and_no_hash_is_shown(make_user, system_user):
    owner = make_user()
    key, secret = api_key_create(user=owner, name="ci", scopes=["accounts:read"])
    staff = _client(make_user(is_staff=True))
    page = staff.get(KEYS).content.decode()
    assert key.prefix in page and key.secret_hash not in page and secret not in page
    assert key.secret_hash not in staff.get(f"{KEYS}{key.id}/change/").content.decode()
    body = {"action": "revoke", "_selected_action": [str(key.id)]}
    staff.post(KEYS, body, follow=True)
    assert ApiKey.objects.get().revoked_at is None

    _client(system_user).post(KEYS, body, follow=True)
    assert ApiKey.objects.get().revoked_at is not None

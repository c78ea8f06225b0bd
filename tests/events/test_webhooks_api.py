"""Registering, listing and deleting webhooks, and where they may point (SSRF rules)."""

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def register(user, **body):
    return client_for(user).post("/api/webhooks", body, format="json")


def test_register_list_and_delete(user, make_user, local_webhooks, receivers):
    url = receivers().url()
    created = register(user, url=url, events=["account.created"], description="mine")

    assert created.status_code == 201, created.content
    webhook, secret = created.json()["webhook"], created.json()["secret"]
    assert secret.startswith("whsec_")
    assert webhook["events"] == ["account.created"] and webhook["active"] is True
    listed = client_for(user).get("/api/webhooks").json()["webhooks"]
    assert listed == [webhook] and secret not in str(listed)
    assert client_for(make_user()).delete(f"/api/webhooks/{webhook['_id']}").status_code == 404
    assert client_for(user).delete(f"/api/webhooks/{webhook['_id']}").status_code == 204
    assert client_for(user).delete(f"/api/webhooks/{webhook['_id']}").status_code == 404
    assert client_for(user).get("/api/webhooks").json() == {"webhooks": []}


def test_every_type_by_default_and_unknown_types_refused(user, local_webhooks, receivers):
    url = receivers().url()
    assert len(register(user, url=url).json()["webhook"]["events"]) == 12
    refused = register(user, url=url, events=["account.created", "account.hacked"])
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_input"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://224.0.0.1/hook",
        "https://0.0.0.0/hook",
        "https://user:pw@93.184.216.34/hook",
        "http://93.184.216.34/hook",
        "ftp://93.184.216.34/hook",
    ],
)
def test_urls_outside_the_rules_are_400_invalid_url(user, url):
    response = register(user, url=url)
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid_url", "invalid_input"}


def test_a_public_https_address_is_accepted(user):
    assert register(user, url="https://93.184.216.34/hook").status_code == 201


def test_names_are_checked_after_resolution(user, dns_server):
    dns_server.answers.update(
        {"public.example.test": "93.184.216.34", "inside.example.test": "10.1.2.3"}
    )

    assert register(user, url="https://public.example.test/hook").status_code == 201
    inside = register(user, url="https://inside.example.test/hook")
    assert inside.status_code == 400 and inside.json()["code"] == "invalid_url"
    unknown = register(user, url="https://nowhere.example.test/hook")
    assert unknown.status_code == 400 and unknown.json()["code"] == "invalid_url"


def test_webhooks_are_limited_per_user(user, settings):
    settings.QUOTAS = {**settings.QUOTAS, "webhooks": 1}
    first = register(user, url="https://93.184.216.34/hook")
    refused = register(user, url="https://93.184.216.34/other")
    assert refused.status_code == 403 and refused.json()["code"] == "quota_exceeded"
    client_for(user).delete(f"/api/webhooks/{first.json()['webhook']['_id']}")
    assert register(user, url="https://93.184.216.34/other").status_code == 201

"""API keys: created with a JWT (secret shown once, only its hash kept), used as a Bearer
credential within their scopes, refused once revoked or expired, never able to mint keys."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import client_for
from users.models import ApiKey

ALL_BUT_SYSTEM = [
    "accounts:read",
    "accounts:write",
    "transactions:read",
    "transactions:write",
    "holds:write",
    "events:read",
    "webhooks:write",
]


def create_key(user, scopes=("accounts:read",), **extra):
    response = client_for(user).post(
        "/api/auth/keys", {"name": "ci", "scopes": list(scopes), **extra}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def key_client(secret) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.mark.django_db
def test_a_key_is_shown_once_stored_as_a_hash_and_acts_as_its_owner(user, make_account):
    account = make_account(user)
    created = create_key(user, expiresIn=3600)

    secret, key = created["secret"], created["key"]
    assert secret.startswith("blk_") and secret.startswith(key["prefix"])
    assert key["scopes"] == ["accounts:read"] and key["lastUsedAt"] is None
    assert key["expiresAt"] is not None
    stored = ApiKey.objects.get(id=key["_id"])
    assert secret not in str(vars(stored)) and len(stored.secret_hash) == 64
    listed = client_for(user).get("/api/auth/keys").json()["keys"]
    assert [k["_id"] for k in listed] == [key["_id"]] and secret not in str(listed)

    response = key_client(secret).get("/api/accounts")
    assert response.status_code == 200
    assert [a["_id"] for a in response.json()["accounts"]] == [str(account.id)]


@pytest.mark.django_db
def test_revoked_expired_and_unknown_keys_are_401(user, make_user):
    revoked, expired = create_key(user), create_key(user)
    assert (
        client_for(make_user()).delete(f"/api/auth/keys/{revoked['key']['_id']}").status_code == 404
    )
    assert client_for(user).delete(f"/api/auth/keys/{revoked['key']['_id']}").status_code == 204
    ApiKey.objects.filter(id=expired["key"]["_id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    for secret in (revoked["secret"], expired["secret"], "blk_" + "x" * 43):
        response = key_client(secret).get("/api/accounts")
        assert response.status_code == 401
        assert response.json()["code"] == "token_invalid"


@pytest.mark.django_db
def test_a_key_never_manages_keys_or_logs_out(system_user):
    secret = create_key(system_user, scopes=[*ALL_BUT_SYSTEM, "system"])["secret"]
    client = key_client(secret)
    key_id = ApiKey.objects.get().id
    for response in (
        client.post("/api/auth/keys", {"name": "more", "scopes": ["system"]}, format="json"),
        client.get("/api/auth/keys"),
        client.delete(f"/api/auth/keys/{key_id}"),
        client.post("/api/auth/logout"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "insufficient_scope"
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().revoked_at is None
    assert client.get("/api/auth/me").status_code == 200


@pytest.mark.django_db
def test_only_a_system_users_key_may_carry_the_system_scope(user, system_user):
    refused = client_for(user).post(
        "/api/auth/keys", {"name": "x", "scopes": ["system"]}, format="json"
    )
    assert refused.status_code == 403 and refused.json()["code"] == "not_system_user"
    assert not ApiKey.objects.exists()
    assert create_key(system_user, scopes=["system"])["key"]["scopes"] == ["system"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["admin"]},
        {"name": "", "scopes": ["accounts:read"]},
        {"name": "x", "scopes": ["accounts:read"], "expiresIn": 0},
    ],
)
def test_malformed_keys_are_400(user, body):
    response = client_for(user).post("/api/auth/keys", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_input"


@pytest.mark.django_db
def test_last_used_is_kept_to_the_minute_without_a_write_per_request(user):
    secret = create_key(user)["secret"]
    client = key_client(secret)

    client.get("/api/accounts")
    first = ApiKey.objects.get().last_used_at
    client.get("/api/accounts")
    assert first is not None and ApiKey.objects.get().last_used_at == first

    ApiKey.objects.update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/accounts")
    assert ApiKey.objects.get().last_used_at > first


@pytest.mark.django_db
def test_live_keys_are_limited_per_user_and_system_users_are_exempt(user, system_user, settings):
    settings.QUOTAS = {**settings.QUOTAS, "api_keys": 2}
    first, _second = create_key(user), create_key(user)
    client = client_for(user)
    body = {"name": "third", "scopes": ["accounts:read"]}

    refused = client.post("/api/auth/keys", body, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "quota_exceeded"
    client.delete(f"/api/auth/keys/{first['key']['_id']}")
    assert client.post("/api/auth/keys", body, format="json").status_code == 201
    for _ in range(3):
        create_key(system_user)

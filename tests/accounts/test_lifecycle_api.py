"""POST /api/accounts/:id/freeze, /unfreeze, /close: who may, what follows, what is recorded."""

import uuid

import pytest

from accounts.models import AccountStatusChange
from ledger.exceptions import AccountNotActive
from tests.conftest import client_for
from tests.transactions.helpers import transfer


def url(account, action):
    return f"/api/accounts/{account.id}/{action}"


@pytest.fixture
def account(user, make_account):
    return make_account(user)


def test_system_user_freezes_and_unfreezes_with_an_audit_trail(system_api, system_user, account):
    response = system_api.post(url(account, "freeze"), {"reason": "fraud check"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["account"]["status"] == "FROZEN"
    response = system_api.post(url(account, "unfreeze"), format="json")
    assert response.json()["account"]["status"] == "ACTIVE"
    trail = list(
        AccountStatusChange.objects.filter(account=account)
        .order_by("id")
        .values_list("from_status", "to_status", "actor_id", "reason")
    )
    assert trail == [
        ("ACTIVE", "FROZEN", system_user.id, "fraud check"),
        ("FROZEN", "ACTIVE", system_user.id, ""),
    ]


def test_a_frozen_account_neither_sends_nor_receives(system_api, user, account, make_account, fund):
    other = make_account(user)
    fund(account, "10")
    fund(other, "10")
    system_api.post(url(account, "freeze"), format="json")
    with pytest.raises(AccountNotActive):
        transfer(account, other, "1")
    with pytest.raises(AccountNotActive):
        transfer(other, account, "1")


def test_the_owner_may_not_freeze_or_unfreeze(api, account):
    for action in ("freeze", "unfreeze"):
        response = api.post(url(account, action), format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "not_system_user"


def test_owner_closes_an_empty_account(api, account):
    response = api.post(url(account, "close"), {"reason": "moving banks"}, format="json")
    assert response.status_code == 200
    assert response.json()["account"]["status"] == "CLOSED"
    change = AccountStatusChange.objects.get(account=account)
    assert (change.to_status, change.reason) == ("CLOSED", "moving banks")


def test_close_needs_a_zero_balance(api, account, fund):
    fund(account, "1")
    response = api.post(url(account, "close"), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "account_not_empty"


def test_a_closed_account_stays_closed(system_api, api, account):
    api.post(url(account, "close"), format="json")
    for action in ("freeze", "unfreeze"):
        response = system_api.post(url(account, action), format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "account_closed"


def test_owner_cannot_close_a_frozen_account_but_a_system_user_can(system_api, api, account):
    system_api.post(url(account, "freeze"), format="json")
    assert api.post(url(account, "close"), format="json").json()["code"] == "account_frozen"
    assert system_api.post(url(account, "close"), format="json").status_code == 200


def test_another_users_unknown_or_malformed_account_is_404(make_user, account):
    stranger = client_for(make_user())
    assert stranger.post(url(account, "close"), format="json").status_code == 404
    for target in (uuid.uuid4(), "nope"):
        response = stranger.post(f"/api/accounts/{target}/close", format="json")
        assert response.status_code == 404
        assert response.json()["code"] == "account_not_found"


def test_reason_must_be_text(system_api, account):
    response = system_api.post(url(account, "freeze"), {"reason": ["x"]}, format="json")
    assert response.status_code == 400


def test_lifecycle_needs_a_token(client_anon, account):
    assert client_anon.post(url(account, "close"), format="json").status_code == 401

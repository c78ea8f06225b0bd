"""POST /api/transactions/system/initial-funds."""

import pytest

from accounts.models import Account
from tests.conftest import client_for
from transactions.models import Transaction

URL = "/api/transactions/system/initial-funds"


def body(account, amount="1000", key="seed-1"):
    return {"toAccount": str(account.id), "amount": amount, "idempotencyKey": key}


def test_system_user_seeds_an_account_from_its_funding_account(
    system_api, system_user, user, make_account
):
    account = make_account(user)
    response = system_api.post(URL, body(account), format="json")
    assert response.status_code == 201
    payload = response.json()
    assert payload["message"] == "Initial Funds Transaction Completed Successfully."
    funding = Account.objects.get(user=system_user, is_funding=True, currency="INR")
    assert payload["transaction"]["fromAccount"] == str(funding.id)
    assert payload["transaction"]["amount"] == "1000.00"
    assert Account.objects.get(id=account.id).balance == 100000
    assert Account.objects.get(id=funding.id).balance == -100000


def test_ordinary_user_gets_403(api, user, make_account):
    account = make_account(user)
    response = api.post(URL, body(account), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_system_user"
    assert Account.objects.get(id=account.id).balance == 0


def test_unknown_account_is_400(system_api):
    response = system_api.post(
        URL,
        {"toAccount": "5d4b0e3e-0000-4000-8000-000000000000", "amount": 1, "idempotencyKey": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_account"


@pytest.mark.parametrize("status", ["FROZEN", "CLOSED"])
def test_account_not_active_is_400(system_api, user, make_account, status):
    account = make_account(user)
    Account.objects.filter(id=account.id).update(status=status)
    response = system_api.post(URL, body(account), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "account_not_active"
    assert Account.objects.get(id=account.id).balance == 0


def test_another_currency_opens_its_funding_account_on_first_use(
    system_api, system_user, user, make_account
):
    dollars = make_account(user, "USD")
    assert system_api.post(URL, body(dollars, "25.5"), format="json").status_code == 201
    assert system_api.post(URL, body(dollars, "1", key="seed-2"), format="json").status_code == 201
    funding = Account.objects.get(user=system_user, is_funding=True, currency="USD")
    assert funding.balance == -2650
    assert Account.objects.filter(user=system_user, is_funding=True).count() == 2


def test_replay_is_200_and_funds_once(system_api, user, make_account):
    account = make_account(user)
    first = system_api.post(URL, body(account), format="json")
    again = system_api.post(URL, body(account), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["transaction"]["_id"] == first.json()["transaction"]["_id"]
    assert Account.objects.get(id=account.id).balance == 100000
    conflict = system_api.post(URL, body(account, "2000"), format="json")
    assert conflict.status_code == 409


def test_amount_bound_applies_to_initial_funds(system_api, user, make_account):
    account = make_account(user)
    assert system_api.post(URL, body(account, "100000000000.01"), format="json").status_code == 400
    assert system_api.post(URL, body(account, "100000000000"), format="json").status_code == 201


def test_funding_account_cannot_fund_itself(system_api, system_user):
    funding = Account.objects.get(user=system_user, is_funding=True)
    response = system_api.post(URL, body(funding), format="json")
    assert response.status_code == 400
    assert not Transaction.objects.exists()


def test_system_user_token_from_login_works(client_anon, system_user, user, make_account):
    from tests.conftest import PASSWORD

    token = client_anon.post(
        "/api/auth/login", {"email": system_user.email, "password": PASSWORD}, format="json"
    ).json()["token"]
    client_anon.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client_anon.post(URL, body(make_account(user)), format="json").status_code == 201
    assert client_for(user).post(URL, body(make_account(user)), format="json").status_code == 403

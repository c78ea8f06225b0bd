"""POST/GET /api/accounts and GET /api/accounts/balance/:id."""

import uuid

import pytest

from accounts.models import Account
from tests.conftest import client_for


def test_open_account_defaults_to_inr_and_active(api, user):
    response = api.post("/api/accounts")
    assert response.status_code == 201
    account = response.json()["account"]
    assert set(account) == {"_id", "user", "status", "currency", "createdAt", "updatedAt"}
    assert account["user"] == str(user.id)
    assert (account["status"], account["currency"]) == ("ACTIVE", "INR")
    assert account["createdAt"].endswith("Z")
    assert Account.objects.get(id=account["_id"]).balance == 0


@pytest.mark.parametrize("currency", ["USD", "JPY", "EUR", "KWD"])
def test_open_account_in_another_iso_currency(api, currency):
    response = api.post("/api/accounts", {"currency": currency}, format="json")
    assert response.status_code == 201
    assert response.json()["account"]["currency"] == currency


@pytest.mark.parametrize(("sent", "stored"), [("eur", "EUR"), ("uSd", "USD"), ("jpy", "JPY")])
def test_a_currency_code_in_any_case_is_stored_upper_case(api, sent, stored):
    response = api.post("/api/accounts", {"currency": sent}, format="json")
    assert response.status_code == 201
    assert response.json()["account"]["currency"] == stored
    assert Account.objects.get().currency == stored


@pytest.mark.parametrize("currency", ["XYZ", "US", "XAU", "usdd", "", 5, None])
def test_unknown_currency_is_400_and_opens_nothing(api, currency):
    response = api.post("/api/accounts", {"currency": currency}, format="json")
    assert response.status_code == 400
    assert "currency" in response.json()["errors"]
    assert not Account.objects.exists()


@pytest.mark.parametrize(("typo", "meant"), [("EUX", "EUR"), ("usx", "USD"), ("INN", "INR")])
def test_an_unknown_currency_names_the_codes_that_look_close(api, typo, meant):
    response = api.post("/api/accounts", {"currency": typo}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unknown_currency"
    assert meant in body["message"] and meant in body["errors"]["currency"][0]


def test_list_shows_only_the_callers_accounts(api, user, make_user, make_account):
    mine = [make_account(user), make_account(user, "USD")]
    make_account(make_user())
    response = api.get("/api/accounts")
    assert response.status_code == 200
    assert [a["_id"] for a in response.json()["accounts"]] == [str(a.id) for a in mine]


def test_accounts_need_authentication(client_anon):
    assert client_anon.get("/api/accounts").status_code == 401
    assert client_anon.post("/api/accounts").status_code == 401


def test_balance_is_a_decimal_string_in_the_currency_exponent(api, user, make_account, fund):
    inr, jpy = make_account(user), make_account(user, "JPY")
    fund(inr, "1234.5")
    fund(jpy, "300")
    assert api.get(f"/api/accounts/balance/{inr.id}").json() == {
        "accountId": str(inr.id),
        "balance": "1234.50",
        "currency": "INR",
        "held": "0.00",
        "available": "1234.50",
    }
    assert api.get(f"/api/accounts/balance/{jpy.id}").json()["balance"] == "300"


def test_new_account_balance_is_zero(api, user, make_account):
    account = make_account(user)
    assert api.get(f"/api/accounts/balance/{account.id}").json()["balance"] == "0.00"


@pytest.mark.parametrize("account_id", [str(uuid.uuid4()), "not-a-uuid", "1' OR '1'='1"])
def test_unknown_or_malformed_account_is_404(api, account_id):
    response = api.get(f"/api/accounts/balance/{account_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "account_not_found"


def test_another_users_account_is_404(user, make_user, make_account):
    theirs = make_account(make_user())
    response = client_for(user).get(f"/api/accounts/balance/{theirs.id}")
    assert response.status_code == 404

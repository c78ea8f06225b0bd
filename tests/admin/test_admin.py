"""The Django admin: who may browse, who may act, read-only ledger, actions and the funding page
calling the same services as the API."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Account, AccountStatusChange
from accounts.services import account_freeze
from ledger.models import LedgerEntry
from tests.conftest import PASSWORD
from transactions.models import Transaction

FUNDING_URL = "/admin/transactions/transaction/initial-funds/"
CHANGELISTS = [
    "/admin/users/user/",
    "/admin/accounts/account/",
    "/admin/accounts/accountstatuschange/",
    "/admin/ledger/hold/",
    "/admin/transactions/transaction/",
    "/admin/ledger/ledgerentry/",
    "/admin/users/apikey/",
    "/admin/events/event/",
    "/admin/events/webhook/",
    "/admin/events/webhookdelivery/",
]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff(make_user):
    """Staff (may log into the admin) but not a system user."""
    return make_user(is_staff=True)


@pytest.fixture
def superuser(make_user):
    """A Django superuser who is not a system user: gets no more than any staff user."""
    user = make_user(is_staff=True)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


@pytest.fixture
def customer_account(user, make_account):
    return make_account(user)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _fund_page_post(client, account, amount, key):
    return client.post(
        FUNDING_URL,
        {"account": str(account.id), "amount": amount, "idempotency_key": key},
        follow=True,
    )


@pytest.mark.parametrize("url", CHANGELISTS)
def test_system_user_and_plain_staff_may_browse_every_changelist(
    system_user, staff, customer_account, fund, url
):
    fund(customer_account, "10.00")
    for who in (system_user, staff):
        response = _client(who).get(url)
        assert response.status_code == 200, (who, url)


@pytest.mark.parametrize("url", ["/admin/", *CHANGELISTS])
def test_non_staff_users_are_sent_to_the_login_page(user, url):
    response = _client(user).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_index_lists_the_apps_for_plain_staff(staff):
    body = _client(staff).get("/admin/").content.decode()
    for name in ("Accounts", "Transactions", "Ledger entries", "Users"):
        assert name in body


def test_account_list_shows_owner_email_and_formatted_balance(
    system_user, user, customer_account, fund
):
    fund(customer_account, "1234.50")
    body = _client(system_user).get("/admin/accounts/account/").content.decode()
    assert user.email in body
    assert "1,234.50 INR" in body


def test_account_list_filters_by_status_and_currency(system_user, user, make_account):
    inr, usd = make_account(user), make_account(user, "USD")
    account_freeze(account_id=str(usd.id), actor=system_user)
    client = _client(system_user)
    by_status = client.get("/admin/accounts/account/", {"status__exact": "FROZEN"})
    assert list(by_status.context["cl"].result_list) == [usd]
    by_currency = client.get("/admin/accounts/account/", {"currency__exact": "INR"})
    assert inr in by_currency.context["cl"].result_list
    assert usd not in by_currency.context["cl"].result_list


@pytest.mark.parametrize("spelling", [str, lambda a: a.id.hex, lambda a: str(a.id).upper()])
def test_accounts_are_found_by_id_in_any_spelling(system_user, make_user, make_account, spelling):
    wanted, other = make_account(make_user()), make_account(make_user())
    term = spelling(wanted.id) if spelling is str else spelling(wanted)
    response = _client(system_user).get("/admin/accounts/account/", {"q": term})
    results = list(response.context["cl"].result_list)
    assert results == [wanted] and other not in results


def test_accounts_are_found_by_owner_email(system_user, make_user, make_account):
    owner = make_user(email="findme@example.com")
    wanted, other = make_account(owner), make_account(make_user())
    response = _client(system_user).get("/admin/accounts/account/", {"q": "findme@"})
    assert list(response.context["cl"].result_list) == [wanted]
    assert other.id != wanted.id


def test_transactions_are_found_by_id_or_key_and_filtered(system_user, customer_account, fund):
    first, second = fund(customer_account, "1.00"), fund(customer_account, "2.00")
    client = _client(system_user)
    by_id = client.get("/admin/transactions/transaction/", {"q": str(first.id)})
    assert list(by_id.context["cl"].result_list) == [first]
    by_key = client.get("/admin/transactions/transaction/", {"q": second.idempotency_key})
    assert list(by_key.context["cl"].result_list) == [second]
    by_kind = client.get("/admin/transactions/transaction/", {"kind__exact": "TRANSFER"})
    assert list(by_kind.context["cl"].result_list) == []
    by_status = client.get("/admin/transactions/transaction/", {"status__exact": "COMPLETED"})
    assert set(by_status.context["cl"].result_list) == {first, second}
    today = first.created_at.date().isoformat()
    by_date = client.get(
        "/admin/transactions/transaction/",
        {
            "created_at__gte": f"{today} 00:00:00+00:00",
            "created_at__lt": "2999-01-01 00:00:00+00:00",
        },
    )
    assert set(by_date.context["cl"].result_list) == {first, second}


def test_a_user_page_never_shows_the_password_hash(system_user, user):
    body = _client(system_user).get(f"/admin/users/user/{user.id}/change/").content.decode()
    assert user.email in body
    assert user.password not in body and "bcrypt" not in body


@pytest.mark.parametrize("who", ["system_user", "staff", "superuser"])
def test_transactions_and_ledger_entries_are_read_only_for_everyone(
    request, who, customer_account, fund
):
    tx = fund(customer_account, "5.00")
    entry = LedgerEntry.objects.filter(transaction=tx).first()
    client = _client(request.getfixturevalue(who))
    for model, obj in (("transactions/transaction", tx), ("ledger/ledgerentry", entry)):
        assert client.get(f"/admin/{model}/add/").status_code == 403
        assert client.get(f"/admin/{model}/{obj.pk}/delete/").status_code == 403
        page = client.get(f"/admin/{model}/{obj.pk}/change/")
        assert page.status_code == 200
        body = page.content.decode()
        assert 'name="_save"' not in body and "deletelink" not in body
        assert client.post(f"/admin/{model}/{obj.pk}/change/", {}).status_code == 403
        changelist = client.get(f"/admin/{model}/").content.decode()
        assert "delete_selected" not in changelist and f"/admin/{model}/add/" not in changelist
    tx.refresh_from_db()
    assert tx.status == "COMPLETED"
    assert LedgerEntry.objects.filter(transaction=tx).count() == 2


def _act(client, action, accounts, reason=""):
    return client.post(
        "/admin/accounts/account/",
        {
            "action": action,
            "_selected_action": [str(a.id) for a in accounts],
            "reason": reason,
            "index": 0,
        },
        follow=True,
    )


def test_system_user_freezes_and_unfreezes_with_a_recorded_reason(system_user, customer_account):
    client = _client(system_user)
    response = _act(client, "freeze", [customer_account], reason="chargeback review")
    assert response.status_code == 200
    assert "Frozen: 1 account(s)." in _messages(response)
    customer_account.refresh_from_db()
    assert customer_account.status == "FROZEN"
    change = AccountStatusChange.objects.get()
    assert (change.actor, change.reason, change.to_status) == (
        system_user,
        "chargeback review",
        "FROZEN",
    )
    _act(client, "unfreeze", [customer_account])
    customer_account.refresh_from_db()
    assert customer_account.status == "ACTIVE"


def test_closing_an_account_with_money_is_a_message_not_an_error_page(
    system_user, user, make_account, fund
):
    full, empty = make_account(user), make_account(user)
    fund(full, "3.00")
    response = _act(_client(system_user), "close", [full, empty])
    assert response.status_code == 200
    messages = _messages(response)
    assert f"{full.id}: The account still holds money; only a zero balance can be closed." in (
        messages
    )
    assert "Closed: 1 account(s)." in messages
    full.refresh_from_db()
    empty.refresh_from_db()
    assert (full.status, empty.status) == ("ACTIVE", "CLOSED")


def test_reopening_a_closed_account_is_refused_with_a_message(system_user, customer_account):
    client = _client(system_user)
    _act(client, "close", [customer_account])
    response = _act(client, "unfreeze", [customer_account])
    assert any("closed account cannot be changed" in m for m in _messages(response))
    customer_account.refresh_from_db()
    assert customer_account.status == "CLOSED"


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_staff_who_are_not_system_users_cannot_change_account_status(
    request, who, customer_account
):
    client = _client(request.getfixturevalue(who))
    changelist = client.get("/admin/accounts/account/").content.decode()
    assert 'value="freeze"' not in changelist and 'value="close"' not in changelist
    for action in ("freeze", "close"):
        _act(client, action, [customer_account])
    customer_account.refresh_from_db()
    assert customer_account.status == "ACTIVE"
    assert not AccountStatusChange.objects.exists()


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_staff_who_are_not_system_users_cannot_reach_the_funding_page(
    request, who, customer_account
):
    client = _client(request.getfixturevalue(who))
    assert client.get(FUNDING_URL).status_code == 403
    response = client.post(
        FUNDING_URL, {"account": str(customer_account.id), "amount": "5", "idempotency_key": "x"}
    )
    assert response.status_code == 403
    assert (
        "Post initial funds" not in client.get("/admin/transactions/transaction/").content.decode()
    )
    assert not Transaction.objects.exists()


def test_funding_page_is_linked_for_system_users_with_a_fresh_key(system_user, customer_account):
    client = _client(system_user)
    assert FUNDING_URL in client.get("/admin/transactions/transaction/").content.decode()
    account_page = client.get(f"/admin/accounts/account/{customer_account.id}/change/")
    assert f"{FUNDING_URL}?account={customer_account.id}" in account_page.content.decode()
    keys = set()
    for _ in range(2):
        page = client.get(FUNDING_URL, {"account": str(customer_account.id)})
        assert page.status_code == 200
        keys.add(page.context["form"].initial["idempotency_key"])
        assert page.context["form"].initial["account"] == str(customer_account.id)
    assert len(keys) == 2


def test_posting_initial_funds_from_the_page(system_user, customer_account):
    response = _fund_page_post(_client(system_user), customer_account, "750.25", "page-key-1")
    tx = Transaction.objects.get(idempotency_key="page-key-1")
    assert response.redirect_chain[-1][0] == reverse(
        "admin:transactions_transaction_change", args=[tx.id]
    )
    assert _messages(response) == [
        f"Posted 750.25 INR to account {customer_account.id}: transaction {tx.id}, key page-key-1."
    ]
    assert (tx.kind, tx.status, tx.initiator, tx.amount) == (
        "INITIAL_FUNDS",
        "COMPLETED",
        system_user,
        75025,
    )
    customer_account.refresh_from_db()
    assert customer_account.balance == 75025


def test_submitting_the_same_page_twice_posts_once(system_user, customer_account):
    client = _client(system_user)
    _fund_page_post(client, customer_account, "10", "double-submit")
    again = _fund_page_post(client, customer_account, "10", "double-submit")
    [tx] = Transaction.objects.all()
    assert _messages(again) == [
        f"This page was submitted before: it posted once, as transaction {tx.id} "
        "(COMPLETED, key double-submit). Nothing was posted again."
    ]
    customer_account.refresh_from_db()
    assert customer_account.balance == 1000
    assert Transaction.objects.filter(idempotency_key="double-submit").count() == 1


def test_an_empty_key_is_generated(system_user, customer_account):
    _fund_page_post(_client(system_user), customer_account, "1", "")
    tx = Transaction.objects.get()
    assert re.fullmatch(r"admin-[0-9a-f-]{36}", tx.idempotency_key)


def test_funding_a_frozen_account_shows_the_refusal_and_offers_a_new_key(
    system_user, customer_account
):
    account_freeze(account_id=str(customer_account.id), actor=system_user)
    response = _fund_page_post(_client(system_user), customer_account, "5", "frozen-key")
    assert response.status_code == 200
    failed = Transaction.objects.get(idempotency_key="frozen-key")
    assert failed.status == "FAILED"
    assert _messages(response) == [
        f"Refused: Both accounts must be ACTIVE. Recorded as FAILED transaction {failed.id}. "
        "A new key is filled in below."
    ]
    new_key = response.context["form"]["idempotency_key"].value()
    assert new_key.startswith("admin-") and new_key != "frozen-key"
    customer_account.refresh_from_db()
    assert customer_account.balance == 0


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1.005", "Refused: Invalid amount. INR amounts have at most 2 decimal places."),
        (
            "100000000000.01",
            "Refused: Invalid amount. Amount exceeds the largest allowed transfer.",
        ),
    ],
)
def test_amount_refused_by_the_service_keeps_the_key(
    system_user, customer_account, amount, message
):
    response = _fund_page_post(_client(system_user), customer_account, amount, "keep-me")
    assert _messages(response) == [message]
    assert response.context["form"]["idempotency_key"].value() == "keep-me"
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("amount", ["", "0", "-5", "1e3", "abc", "+5", "NaN"])
def test_malformed_amount_is_a_form_error(system_user, customer_account, amount):
    response = _fund_page_post(_client(system_user), customer_account, amount, "k")
    assert response.status_code == 200
    assert "amount" in response.context["form"].errors
    assert not Transaction.objects.exists()


def test_a_funding_account_is_not_a_choice_on_the_funding_page(system_user):
    funding = Account.objects.get(user=system_user, is_funding=True)
    response = _fund_page_post(_client(system_user), funding, "5", "self")
    assert response.status_code == 200
    assert "account" in response.context["form"].errors
    assert _messages(response) == []
    assert not Transaction.objects.exists()


def test_admin_login_with_password_works_for_system_user(system_user):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": system_user.email, "password": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get(FUNDING_URL).status_code == 200


def test_admin_login_takes_the_email_in_any_letter_case(system_user):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": f"  {system_user.email.upper()} ", "password": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"

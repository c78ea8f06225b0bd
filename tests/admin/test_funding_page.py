"""The funding page beyond the basics in test_admin.py: its account picker, and how it keeps a
posting from being repeated by accident (a resubmitted page replays; a fresh page, after Back or
in a second tab, asks for a confirmation that names the earlier posting)."""

import threading
import uuid

import pytest
from django.db import connection
from django.test import Client

from accounts.models import Account
from accounts.services import account_close, account_create, account_freeze, account_unfreeze
from tests.conftest import PASSWORD
from transactions.models import Transaction

FUNDING_URL = "/admin/transactions/transaction/initial-funds/"
PICKER_URL = "/admin/transactions/transaction/initial-funds/accounts/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client, account, amount, key, **extra):
    data = {"account": str(account.id), "amount": amount, "idempotency_key": key, **extra}
    return client.post(FUNDING_URL, data, follow=True)


def _picked(client, term) -> list[dict]:
    response = client.get(PICKER_URL, {"term": term})
    assert response.status_code == 200
    return response.json()["results"]


@pytest.fixture
def customer(make_user):
    return make_user(email="naman@example.com", name="Naman Kumar")


@pytest.fixture
def account(customer, make_account):
    return make_account(customer)


def test_the_picker_names_owner_balance_and_short_id(system_user, account, fund):
    fund(account, "1234567.89")
    [choice] = _picked(_client(system_user), "naman@")
    assert choice == {
        "id": str(account.id),
        "text": f"Naman Kumar <naman@example.com> · 1,234,567.89 INR · {str(account.id)[:8]}",
    }


@pytest.mark.parametrize(
    "term",
    [
        "NAMAN@example",
        "kumar",
        lambda a: str(a.id)[:8],
        lambda a: str(a.id)[9:18].upper(),
        lambda a: a.id.hex,
    ],
    ids=["email", "name", "short-id", "middle-of-id", "hex-id"],
)
def test_the_picker_searches_by_email_name_or_any_part_of_the_id(
    system_user, account, make_user, make_account, term
):
    other = make_account(make_user(email="priya@example.com", name="Priya"))
    text = term(account) if callable(term) else term
    ids = [c["id"] for c in _picked(_client(system_user), text)]
    assert ids == [str(account.id)]
    assert str(other.id) not in ids


def test_the_picker_never_offers_a_funding_or_closed_account(system_user, make_user, make_account):
    closed = make_account(make_user(email="gone@example.com"))
    account_close(account_id=str(closed.id), actor=system_user)
    funding = Account.objects.get(user=system_user, is_funding=True)
    client = _client(system_user)
    assert _picked(client, system_user.email) == []
    assert _picked(client, str(funding.id)[:8]) == []
    assert _picked(client, "gone@") == []
    every = {c["id"] for c in _picked(client, "")}
    assert str(funding.id) not in every and str(closed.id) not in every


def test_the_picker_and_page_are_for_system_users_only(make_user, account):
    staff = _client(make_user(is_staff=True))
    assert staff.get(PICKER_URL, {"term": "naman"}).status_code == 403
    assert Client().get(PICKER_URL).status_code == 302  # to the login page


def test_a_fresh_page_repeating_a_recent_posting_asks_and_names_it(system_user, account):
    client = _client(system_user)
    _post(client, account, "5", "first-tab")
    first = Transaction.objects.get()

    asked = _post(client, account, "5.00", "second-tab")
    assert asked.status_code == 200
    body = asked.content.decode()
    assert "You already posted 5.00 INR to this account" in body
    assert str(first.id)[:8] in body and "first-tab" in body
    assert f'name="confirm_repeat" value="{first.id}"' in body
    assert asked.context["form"]["idempotency_key"].value() == "second-tab"
    assert Transaction.objects.count() == 1

    confirmed = _post(client, account, "5.00", "second-tab", confirm_repeat=str(first.id))
    second = Transaction.objects.get(idempotency_key="second-tab")
    assert confirmed.redirect_chain[-1][0].endswith(f"/{second.id}/change/")
    account.refresh_from_db()
    assert account.balance == 1000

    # Clicking the confirmation twice posts once, and a third page asks again, naming the latest.
    _post(client, account, "5.00", "second-tab", confirm_repeat=str(first.id))
    third = _post(client, account, "5", "third-tab", confirm_repeat=str(first.id))
    assert str(second.id)[:8] in third.content.decode()
    assert Transaction.objects.count() == 2


def test_a_different_amount_account_or_old_posting_is_not_a_repeat(
    system_user, account, make_account, customer, settings
):
    client = _client(system_user)
    _post(client, account, "5", "k1")
    _post(client, account, "6", "k2")
    _post(client, make_account(customer), "5", "k3")
    settings.ADMIN_REPEAT_WINDOW = 0
    _post(client, account, "5", "k4")
    assert Transaction.objects.filter(status="COMPLETED").count() == 4


def test_a_refused_posting_is_not_a_repeat(system_user, account):
    client = _client(system_user)
    account_freeze(account_id=str(account.id), actor=system_user)
    _post(client, account, "5", "refused")
    account_unfreeze(account_id=str(account.id), actor=system_user)
    _post(client, account, "5", "after")
    assert Transaction.objects.get(idempotency_key="after").status == "COMPLETED"


@pytest.mark.django_db(transaction=True)
def test_two_tabs_submitted_at_once_post_once_and_the_other_asks(system_user, make_user):
    target = account_create(user=make_user(), currency=None)
    start = threading.Barrier(2)
    outcomes = []

    def tab(key):
        client = Client()
        client.post(
            "/admin/login/", {"username": system_user.email, "password": PASSWORD}, follow=False
        )
        start.wait()
        try:
            response = _post(client, target, "25", key)
            outcomes.append("asked" if "confirm_repeat" in response.content.decode() else "posted")
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(f"tab-{uuid.uuid4()}",)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["asked", "posted"]
    target.refresh_from_db()
    assert target.balance == 2500

"""What the admin's pages show: the site's name, short ids that can be searched, amounts and
times as people read them, and an account's page leading to its history."""

import re
import uuid
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import Account
from ledger.models import LedgerEntry
from transactions.models import Transaction
from transactions.services import transfer_create


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_accounts(make_user, make_account, fund, user):
    mine, theirs = make_account(user), make_account(make_user())
    fund(mine, "2500.00")
    transfer_create(
        initiator=user,
        from_account_id=str(mine.id),
        to_account_id=str(theirs.id),
        amount=Decimal("1200.75"),
        idempotency_key="t1",
    )
    return mine, theirs


def test_the_header_names_bankledger_and_view_site_opens_the_api_docs(system_user):
    body = _client(system_user).get("/admin/").content.decode()
    assert '<a href="/admin/">bankledger</a>' in body
    assert "Django administration" not in body
    assert '<a href="/api/docs/">View site</a>' in body


def test_the_transaction_list_shows_short_ids_grouped_amounts_and_zoned_times(
    system_user, two_accounts
):
    tx = Transaction.objects.get(idempotency_key="t1")
    body = _client(system_user).get("/admin/transactions/transaction/").content.decode()
    assert f'title="{tx.id}">{str(tx.id)[:8]}</span>' in body
    assert '<span class="money">1,200.75 INR</span>' in body
    assert f"{tx.created_at:%Y-%m-%d %H:%M:%S} UTC" in body
    visible = re.sub(r"<[^>]*>", "", body)
    assert str(tx.id) not in visible  # the full id only in the tooltip and on the detail page


@pytest.mark.parametrize(
    ("url", "model"),
    [
        ("/admin/transactions/transaction/", Transaction),
        ("/admin/accounts/account/", Account),
    ],
)
def test_a_short_id_finds_its_row(system_user, two_accounts, url, model):
    wanted = model.objects.order_by("created_at").last()
    response = _client(system_user).get(url, {"q": str(wanted.pk)[:8]})
    assert wanted in response.context["cl"].result_list


def test_an_account_page_links_to_its_transactions_and_ledger_entries(system_user, two_accounts):
    mine, theirs = two_accounts
    client = _client(system_user)
    page = client.get(f"/admin/accounts/account/{mine.id}/change/").content.decode()
    for url in ("/admin/transactions/transaction/", "/admin/ledger/ledgerentry/"):
        assert f'href="{url}?account={mine.id}"' in page

    txs = client.get("/admin/transactions/transaction/", {"account": str(theirs.id)})
    assert [t.idempotency_key for t in txs.context["cl"].result_list] == ["t1"]
    assert "Test User &lt;" in txs.content.decode()  # the filter names the account's owner
    entries = client.get("/admin/ledger/ledgerentry/", {"account": str(mine.id)})
    assert {e.account_id for e in entries.context["cl"].result_list} == {mine.id}
    assert len(entries.context["cl"].result_list) == 2
    assert LedgerEntry.objects.count() == 4


@pytest.mark.parametrize("value", [str(uuid.uuid4()), "not-an-id"])
def test_an_unknown_account_filter_lists_nothing(system_user, two_accounts, value):
    response = _client(system_user).get("/admin/transactions/transaction/", {"account": value})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []

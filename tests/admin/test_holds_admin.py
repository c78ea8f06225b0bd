"""Holds in the admin: read-only for staff, voided by system users through the service; the
account page shows held, available and the limits, which system users set with a reason."""

import pytest
from django.test import Client

from accounts.models import Account, AccountLimitChange
from ledger.models import Hold
from tests.holds.helpers import hold

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pending(user, make_user, make_account, fund):
    payer, payee = make_account(user), make_account(make_user())
    fund(payer, "100")
    return hold(payer, payee, "30")


def _void(client, held):
    return client.post(
        "/admin/ledger/hold/",
        {"action": "void", "_selected_action": [str(held.id)]},
        follow=True,
    )


def test_staff_browse_holds_but_cannot_void(user, make_user, make_account, fund):
    # The staff user owns the payee: the service would let it void; the admin must not.
    staff_user = make_user(is_staff=True)
    payer = make_account(user)
    fund(payer, "100")
    pending = hold(payer, make_account(staff_user), "30")
    staff = _client(staff_user)
    page = staff.get("/admin/ledger/hold/")
    assert page.status_code == 200 and 'value="void"' not in page.content.decode()
    assert staff.get(f"/admin/ledger/hold/{pending.id}/change/").status_code == 200
    _void(staff, pending)
    assert Hold.objects.get(id=pending.id).status == "PENDING"


def test_system_users_void_through_the_service(pending, system_user):
    response = _void(_client(system_user), pending)
    assert response.status_code == 200
    voided = Hold.objects.get(id=pending.id)
    assert voided.status == "VOIDED" and voided.voided_by == system_user


def test_the_account_page_shows_held_available_and_limits(pending, system_user):
    client = _client(system_user)
    page = client.get(f"/admin/accounts/account/{pending.from_account_id}/change/")
    text = page.content.decode()
    assert "held" in text.lower() and "30.00" in text and "70.00" in text
    response = client.post(
        "/admin/accounts/account/",
        {
            "action": "set_limits",
            "_selected_action": [str(pending.from_account_id)],
            "overdraft_limit": "25",
            "daily_outflow_limit": "none",
            "reason": "tier 1",
        },
        follow=True,
    )
    assert response.status_code == 200
    account = Account.objects.get(id=pending.from_account_id)
    assert account.overdraft_limit == 2500 and account.daily_outflow_limit is None
    assert AccountLimitChange.objects.get(account=account).reason == "tier 1"

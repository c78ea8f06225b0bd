"""Account limits (API.md "Account limits"): set by system users with a reason, read by the
owner; the overdraft lets `balance - held` go below zero that far; the daily outflow limit
counts transfers, batch items and captures, refusals recorded and replayed with `remaining`."""

import pytest

from accounts.models import Account, AccountLimitChange
from bankledger.events.models import Event
from ledger.exceptions import InsufficientFunds
from ledger.models import Hold
from ledger.selectors import ledger_verify
from tests.conftest import client_for
from tests.holds.helpers import expired_hold, hold
from tests.transactions.helpers import transfer
from transactions.hold_services import hold_capture

pytestmark = pytest.mark.django_db


def _limits(system_api, account, **body):
    return system_api.put(f"/api/accounts/{account.id}/limits", body, format="json")


def test_system_users_set_limits_with_a_reason_and_owners_read_them(
    api, parties, system_api, make_user
):
    payer, _ = parties
    response = _limits(
        system_api, payer, overdraftLimit="50", dailyOutflowLimit="70.5", reason="KYC tier 2"
    )
    assert response.status_code == 200, response.json()
    body = api.get(f"/api/accounts/{payer.id}/limits/").json()
    assert body["overdraftLimit"] == "50.00" and body["dailyOutflowLimit"] == "70.50"
    assert body["dailyOutflowUsed"] == "0.00" and body["dailyOutflowResetsAt"]
    change = AccountLimitChange.objects.get(account=payer)
    assert change.reason == "KYC tier 2" and change.actor.is_system
    assert change.previous_overdraft_limit == 0 and change.overdraft_limit == 5000
    assert Event.objects.filter(type="account.limits_changed").count() == 1
    refused = _limits(api, payer, overdraftLimit="1000")
    assert refused.status_code == 403 and refused.json()["code"] == "not_system_user"
    stranger = client_for(make_user())
    assert stranger.get(f"/api/accounts/{payer.id}/limits").status_code == 404
    assert _limits(system_api, payer, dailyOutflowLimit=None).json()["dailyOutflowLimit"] is None
    assert _limits(system_api, payer, overdraftLimit="-1").status_code == 400
    assert _limits(system_api, payer, overdraftLimit="1.001").status_code == 400


def test_funding_accounts_have_no_limits(system_api, system_user):
    funding = Account.objects.get(user=system_user, is_funding=True)
    response = _limits(system_api, funding, overdraftLimit="1")
    assert response.status_code == 400 and response.json()["code"] == "funding_account_no_limits"


def test_the_overdraft_extends_available_and_cannot_drop_below_use(api, parties, system_api):
    payer, payee = parties
    _limits(system_api, payer, overdraftLimit="50")
    assert api.get(f"/api/accounts/balance/{payer.id}").json()["available"] == "150.00"
    hold(payer, payee, "40")
    transfer(payer, payee, "110")
    assert Account.objects.get(id=payer.id).balance == -1000
    balance = api.get(f"/api/accounts/balance/{payer.id}").json()
    assert balance["available"] == "0.00" and balance["held"] == "40.00"
    with pytest.raises(InsufficientFunds):
        transfer(payer, payee, "0.01")
    refused = _limits(system_api, payer, overdraftLimit="49")
    assert refused.status_code == 400 and refused.json()["code"] == "limit_below_usage"
    assert Account.objects.get(id=payer.id).overdraft_limit == 5000
    assert ledger_verify().ok


def test_the_daily_outflow_limit_counts_transfers_batches_and_captures(api, parties, system_api):
    payer, payee = parties
    _limits(system_api, payer, dailyOutflowLimit="50")
    transfer(payer, payee, "20")
    batch = api.post(
        "/api/transactions/batch",
        {
            "idempotencyKey": "b",
            "transfers": [
                {"fromAccount": str(payer.id), "toAccount": str(payee.id), "amount": "10"},
                {"fromAccount": str(payer.id), "toAccount": str(payee.id), "amount": "25"},
            ],
        },
        format="json",
    )
    assert batch.status_code == 400, batch.json()
    assert batch.json()["code"] == "limit_exceeded" and batch.json()["index"] == 1
    assert batch.json()["remaining"] == "20.00"
    pending = hold(payer, payee, "25")
    # A hold beyond what remains is refused, recorded and replayed with `remaining`.
    body = {
        "fromAccount": str(payer.id),
        "toAccount": str(payee.id),
        "amount": "31",
        "idempotencyKey": "big",
    }
    refused = api.post("/api/holds", body, format="json")
    assert refused.status_code == 400 and refused.json()["remaining"] == "30.00"
    assert api.post("/api/holds", body, format="json").json() == refused.json()
    hold_capture(initiator=payee.user, hold_id=str(pending.id), idempotency_key="c")
    used = api.get(f"/api/accounts/{payer.id}/limits").json()
    assert used["dailyOutflowUsed"] == "45.00"
    transfer_body = {**body, "amount": "6", "idempotencyKey": "t"}
    over = api.post("/api/transactions", transfer_body, format="json")
    assert over.status_code == 400 and over.json()["code"] == "limit_exceeded"
    assert over.json()["remaining"] == "5.00" and over.json()["transaction"]["status"] == "FAILED"
    _limits(system_api, payer, dailyOutflowLimit=None)
    replay = api.post("/api/transactions", transfer_body, format="json")
    assert replay.json() == over.json()
    assert Hold.objects.filter(status="FAILED", failure_code="limit_exceeded").count() == 1


def test_an_account_with_pending_holds_cannot_be_closed(parties, system_user):
    from accounts.services import account_close

    payer, payee = parties
    pending = hold(payer, payee, "10")
    payee_api = client_for(payee.user)
    response = payee_api.post(f"/api/accounts/{payee.id}/close", {}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "account_has_pending_holds"
    payee_api.post(f"/api/holds/{pending.id}/void", {"idempotencyKey": "v"}, format="json")
    account_close(account_id=str(payee.id), actor=system_user)
    assert Account.objects.get(id=payee.id).status == "CLOSED"


def test_expire_holds_marks_them_with_events(parties):
    from django.core.management import call_command

    payer, payee = parties
    expired_hold(payer, payee, 100, key="old")
    live = hold(payer, payee, "1")
    call_command("expire_holds")
    assert Hold.objects.get(idempotency_key="old").status == "EXPIRED"
    assert Hold.objects.get(id=live.id).status == "PENDING"
    assert Event.objects.filter(type="hold.expired").count() == 1
    assert Event.objects.filter(type="hold.created").count() == 1


def test_the_account_limits_command_sets_them_as_an_operator(parties):
    from django.core.management import CommandError, call_command

    payer, _ = parties
    call_command(
        "account_limits", account=str(payer.id), overdraft="10", daily_outflow="5", reason="ops"
    )
    account = Account.objects.get(id=payer.id)
    assert account.overdraft_limit == 1000 and account.daily_outflow_limit == 500
    change = AccountLimitChange.objects.get(account=payer)
    assert change.actor is None and change.reason == "ops"
    call_command("account_limits", account=str(payer.id), daily_outflow="none")
    assert Account.objects.get(id=payer.id).daily_outflow_limit is None
    with pytest.raises(CommandError, match="Refused"):
        call_command("account_limits", account=str(payer.id), overdraft="-1")


def test_hold_events_are_seen_by_both_owners(parties, system_user):
    from bankledger.events.services import events_sequence

    payer, payee = parties
    pending = hold(payer, payee, "10")
    hold_capture(initiator=payee.user, hold_id=str(pending.id), idempotency_key="c")
    events_sequence()
    for owner in (payer.user, payee.user):
        seen = client_for(owner).get("/api/events", {"type": "hold.captured"}).json()["events"]
        assert [e["data"]["_id"] for e in seen] == [str(pending.id)]
        assert seen[0]["data"]["status"] == "CAPTURED"
    created = client_for(payee.user).get("/api/events", {"type": "hold.created"}).json()
    assert created["events"][0]["data"]["status"] == "PENDING"


def test_verify_ledger_finds_limits_changed_without_a_record(system_api, parties):
    payer, _payee = parties
    assert _limits(system_api, payer, overdraftLimit="50", reason="r").status_code == 200
    assert ledger_verify().ok
    Account.objects.filter(id=payer.id).update(overdraft_limit=9000)  # around the service
    assert ledger_verify().hold_problems == [f"account {payer.id}: limits not as last recorded"]
    _limits(system_api, payer, overdraftLimit="90", reason="r")
    assert ledger_verify().ok
    Account.objects.filter(id=payer.id).update(daily_outflow_limit=100)
    assert not ledger_verify().ok

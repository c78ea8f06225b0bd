"""`manage.py account_status`: freeze, unfreeze and close from a shell, through the services."""

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AccountStatusChange
from tests.manage_subprocess import manage


def _run(*args) -> str:
    out = StringIO()
    call_command("account_status", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def account(user, make_account):
    return make_account(user)


@pytest.mark.parametrize("status", ["FROZEN", "CLOSED"])
def test_sets_the_status_and_records_the_reason_with_no_actor(account, status):
    out = _run("--account", str(account.id), "--status", status, "--reason", "ticket 42")
    assert out.strip() == f"Account {account.id} is {status}."
    account.refresh_from_db()
    assert account.status == status
    change = AccountStatusChange.objects.get(account=account)
    assert (change.from_status, change.to_status, change.actor, change.reason) == (
        "ACTIVE",
        status,
        None,
        "ticket 42",
    )


def test_unfreezes(account):
    _run("--account", str(account.id), "--status", "FROZEN")
    out = _run("--account", str(account.id), "--status", "ACTIVE")
    assert out.strip() == f"Account {account.id} is ACTIVE."
    assert AccountStatusChange.objects.filter(account=account).count() == 2


def test_closing_an_account_with_money_is_refused(account, fund):
    fund(account, "1.00")
    with pytest.raises(CommandError) as exc:
        _run("--account", str(account.id), "--status", "CLOSED")
    assert str(exc.value) == (
        "Refused: The account still holds money; only a zero balance can be closed."
    )
    account.refresh_from_db()
    assert account.status == "ACTIVE"


def test_closed_is_final(account):
    _run("--account", str(account.id), "--status", "CLOSED")
    with pytest.raises(CommandError, match="a closed account cannot be changed"):
        _run("--account", str(account.id), "--status", "ACTIVE")


def test_a_funding_account_cannot_be_closed(system_user):
    funding = system_user.accounts.get(is_funding=True)
    with pytest.raises(CommandError, match="A funding account cannot be closed"):
        _run("--account", str(funding.id), "--status", "CLOSED")


@pytest.mark.parametrize("account_id", [str(uuid.uuid4()), "nope"])
def test_unknown_account_is_refused(db, account_id):
    with pytest.raises(CommandError, match=r"^Refused: Account not found\.$"):
        _run("--account", account_id, "--status", "FROZEN")


def test_unknown_status_is_refused(account):
    with pytest.raises(CommandError, match="invalid choice: 'DORMANT'"):
        _run("--account", str(account.id), "--status", "DORMANT")


@pytest.mark.django_db(transaction=True)
def test_exit_codes_in_a_real_process(user, make_account, fund):
    account = make_account(user)
    ok = manage("account_status", "--account", str(account.id), "--status", "FROZEN")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"Account {account.id} is FROZEN."
    account.refresh_from_db()
    assert account.status == "FROZEN"
    refused = manage("account_status", "--account", str(uuid.uuid4()), "--status", "CLOSED")
    assert refused.returncode == 1
    assert "CommandError: Refused: Account not found." in refused.stderr
    bad_args = manage("account_status", "--account", str(account.id), "--status", "frozen")
    assert bad_args.returncode == 2
    assert "invalid choice: 'frozen'" in bad_args.stderr
    helped = manage("account_status", "--help")
    assert helped.returncode == 0 and "{ACTIVE,FROZEN,CLOSED}" in helped.stdout

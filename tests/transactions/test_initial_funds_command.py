"""`manage.py initial_funds`: the same service as the API, from a shell."""

import re
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.services import account_freeze, system_user_create
from tests.conftest import PASSWORD
from tests.manage_subprocess import manage
from transactions.models import Transaction


def _run(*args) -> str:
    out = StringIO()
    call_command("initial_funds", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def target(system_user, user, make_account):
    """A customer's account, with exactly one system user in the database."""
    return make_account(user)


def test_posts_initial_funds_as_the_only_system_user(system_user, target):
    out = _run("--to", str(target.id), "--amount", "500.50", "--key", "cli-1")
    tx = Transaction.objects.get(idempotency_key="cli-1")
    assert out.strip() == (
        f"Posted 500.50 INR to {target.id} as {system_user.email}: transaction {tx.id}, key cli-1."
    )
    assert (tx.kind, tx.status, tx.initiator, tx.amount) == (
        "INITIAL_FUNDS",
        "COMPLETED",
        system_user,
        50050,
    )
    target.refresh_from_db()
    assert target.balance == 50050


def test_same_key_again_posts_once(target):
    _run("--to", str(target.id), "--amount", "5", "--key", "once")
    out = _run("--to", str(target.id), "--amount", "5", "--key", "once")
    assert out.startswith("Already processed under key once: transaction ")
    target.refresh_from_db()
    assert target.balance == 500


def test_without_a_key_one_is_generated_and_printed(target):
    out = _run("--to", str(target.id), "--amount", "1")
    key = Transaction.objects.get().idempotency_key
    assert re.fullmatch(r"cli-[0-9a-f-]{36}", key)
    assert f"key {key}." in out


def test_as_picks_the_system_user_when_there_are_several(system_user, target):
    other = system_user_create(email="second-system@example.com", password=PASSWORD)
    with pytest.raises(CommandError, match="more than one system user; say which with --as"):
        _run("--to", str(target.id), "--amount", "1")
    _run("--to", str(target.id), "--amount", "1", "--as", "SECOND-system@example.com")
    assert Transaction.objects.get().initiator == other


def test_without_any_system_user_it_says_how_to_make_one(user, make_account):
    account = make_account(user)
    with pytest.raises(CommandError, match="no system user; create one with create_system_user"):
        _run("--to", str(account.id), "--amount", "1")


def test_as_must_name_a_system_user(user, target):
    with pytest.raises(CommandError, match="No active system user with email"):
        _run("--to", str(target.id), "--amount", "1", "--as", user.email)
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("amount", ["0", "-1", "1e3", "abc", "+5", "NaN", ""])
def test_malformed_amount_is_refused(target, amount):
    with pytest.raises(CommandError, match="--amount must be a positive decimal"):
        _run("--to", str(target.id), "--amount", amount)
    assert not Transaction.objects.exists()


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
def test_amount_refused_by_the_service(target, amount, message):
    with pytest.raises(CommandError) as exc:
        _run("--to", str(target.id), "--amount", amount)
    assert str(exc.value) == message


@pytest.mark.parametrize("account_id", [str(uuid.uuid4()), "not-an-id"])
def test_unknown_account_is_refused(system_user, account_id):
    with pytest.raises(CommandError, match=r"^Refused: Invalid (fromAccount or )?toAccount$"):
        _run("--to", account_id, "--amount", "1")


def test_a_frozen_account_is_refused_and_recorded(system_user, target):
    account_freeze(account_id=str(target.id), actor=system_user)
    with pytest.raises(CommandError) as exc:
        _run("--to", str(target.id), "--amount", "1", "--key", "frozen")
    failed = Transaction.objects.get(idempotency_key="frozen")
    assert str(exc.value) == (
        f"Refused: Both accounts must be ACTIVE. Recorded as FAILED transaction {failed.id}."
    )


def test_key_longer_than_255_is_refused(target):
    with pytest.raises(CommandError, match="--key must be between 1 and 255 characters"):
        _run("--to", str(target.id), "--amount", "1", "--key", "k" * 256)


def test_missing_arguments_are_refused():
    with pytest.raises(CommandError, match="required: --to"):
        call_command("initial_funds", "--amount", "1")


@pytest.mark.django_db(transaction=True)
def test_exit_codes_in_a_real_process(system_user, user, make_account):
    target = make_account(user)
    ok = manage("initial_funds", "--to", str(target.id), "--amount", "2.50", "--key", "proc")
    assert ok.returncode == 0, ok.stderr
    assert f"Posted 2.50 INR to {target.id}" in ok.stdout
    target.refresh_from_db()
    assert target.balance == 250
    refused = manage("initial_funds", "--to", str(uuid.uuid4()), "--amount", "1")
    assert refused.returncode == 1
    assert "CommandError: Refused: Invalid toAccount" in refused.stderr
    bad_args = manage("initial_funds", "--amount", "1")
    assert bad_args.returncode == 2
    assert "the following arguments are required: --to" in bad_args.stderr
    helped = manage("initial_funds", "--help")
    assert helped.returncode == 0 and "--to ACCOUNT" in helped.stdout

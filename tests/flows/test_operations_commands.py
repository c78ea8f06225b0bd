"""An operator's session at a shell: every command of the README's operations table, each in a
real process against the test database, with its exit code."""

import uuid

import pytest

from accounts.models import Account
from tests.conftest import PASSWORD
from tests.manage_subprocess import manage
from users.models import User

COMMANDS = [
    "create_system_user",
    "verify_ledger",
    "flushexpiredtokens",
    "initial_funds",
    "account_status",
    "db_worker",
    "failed_emails",
    "gmail_authorize",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_operations_command_has_help(command):
    result = manage(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: manage.py {command}")


@pytest.mark.django_db(transaction=True)
def test_seed_freeze_refuse_unfreeze_verify_purge(make_user, make_account):
    created = manage("create_system_user", "--email", "ops@example.com", "--password", PASSWORD)
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("Created system user ops@example.com")
    again = manage("create_system_user", "--email", "ops@example.com", "--password", PASSWORD)
    assert again.returncode == 1
    assert "CommandError: User already exists with email." in again.stderr

    account = make_account(make_user())
    to = str(account.id)
    seeded = manage("initial_funds", "--to", to, "--amount", "100", "--key", "ops-1")
    assert seeded.returncode == 0, seeded.stderr
    assert "as ops@example.com" in seeded.stdout

    frozen = manage("account_status", "--account", to, "--status", "FROZEN", "--reason", "audit")
    assert frozen.returncode == 0 and frozen.stdout.strip() == f"Account {to} is FROZEN."
    refused = manage("initial_funds", "--to", to, "--amount", "1", "--key", "ops-2")
    assert refused.returncode == 1
    assert "Refused: Both accounts must be ACTIVE." in refused.stderr
    active = manage("account_status", "--account", to, "--status", "ACTIVE")
    assert active.returncode == 0

    verified = manage("verify_ledger")
    assert verified.returncode == 0 and "Ledger OK." in verified.stdout
    assert manage("flushexpiredtokens").returncode == 0

    account.refresh_from_db()
    assert (account.status, account.balance) == ("ACTIVE", 10000)
    assert User.objects.get(email="ops@example.com").is_system
    unknown = manage("account_status", "--account", str(uuid.uuid4()), "--status", "CLOSED")
    assert unknown.returncode == 1
    assert Account.objects.filter(status="CLOSED").count() == 0

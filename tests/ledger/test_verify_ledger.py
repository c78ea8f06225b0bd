"""`manage.py verify_ledger` passes on a sound ledger and exits 1 on a corrupted one."""

import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Account
from accounts.triggers import IDENTITY
from ledger.exceptions import CurrencyMismatch
from tests.transactions.helpers import transfer
from transactions.services import transfer_create


@pytest.fixture
def ledger(user, make_user, make_account, fund):
    a, b = make_account(user), make_account(make_user())
    fund(a, "100")
    transfer_create(
        initiator=user,
        from_account_id=a.id,
        to_account_id=b.id,
        amount=Decimal(30),
        idempotency_key="x",
    )
    return a, b


def test_sound_ledger_passes(ledger, capsys):
    call_command("verify_ledger")
    out = capsys.readouterr().out
    assert "Checked 3 accounts and 4 ledger entries." in out
    assert "Ledger OK." in out


def test_corrupted_balance_fails_with_exit_1(ledger, capsys):
    a, _ = ledger
    Account.objects.filter(id=a.id).update(balance=6999)
    with pytest.raises(CommandError) as raised:
        call_command("verify_ledger")
    assert raised.value.returncode == 1
    out = capsys.readouterr().out
    assert f"account {a.id}: stored 6999, credits-debits 7000, last entry 7000" in out
    assert "INR: -1" in out


def test_unbalanced_transaction_is_reported(ledger, capsys):
    a, _ = ledger
    tx = a.outgoing.get()
    with connection.cursor() as cursor:
        # An extra credit with no matching debit, inserted around the service.
        cursor.execute(
            "INSERT INTO ledger_ledgerentry"
            " (account_id, transaction_id, type, amount, balance_after, created_at)"
            " SELECT account_id, transaction_id, 'DEBIT', 1, balance_after, created_at"
            " FROM ledger_ledgerentry WHERE transaction_id = %s AND type = 'CREDIT'",
            [tx.id.hex if connection.vendor == "sqlite" else tx.id],
        )
    with pytest.raises(CommandError):
        call_command("verify_ledger")
    assert f"transaction {tx.id}: debits 3001, credits 3000" in capsys.readouterr().out


def test_an_entry_later_than_its_accounts_last_change_is_reported(ledger, capsys):
    a, _ = ledger
    changed = Account.objects.get(id=a.id).updated_at - timedelta(seconds=1)
    # Moved back around the engine, which stamps an account with its postings' time.
    Account.objects.filter(id=a.id).update(updated_at=changed)
    with pytest.raises(CommandError):
        call_command("verify_ledger")
    assert f"account {a.id}: an entry at " in capsys.readouterr().out


def test_a_transaction_not_in_its_accounts_currency_is_reported(ledger, capsys):
    _, b = ledger
    tx = b.incoming.get()
    # Around the database's own rule, which refuses changing an account's currency.
    for rule in IDENTITY:
        rule.uninstall(connection)
    try:
        Account.objects.filter(id=b.id).update(currency="USD")
    finally:
        for rule in IDENTITY:
            rule.install(connection)
    with pytest.raises(CommandError):
        call_command("verify_ledger")
    out = capsys.readouterr().out
    assert f"transaction {tx.id}: in INR, its sender's account in INR, its receiver's in USD" in out


def test_a_refused_transfer_to_another_currency_is_sound(ledger, user, make_account, capsys):
    a, _ = ledger
    dollars = make_account(user, currency="USD")
    with pytest.raises(CurrencyMismatch):
        transfer(a, dollars, "1")
    # Recorded FAILED, in the sender's currency: nothing moved, nothing to report.
    call_command("verify_ledger")
    assert "Ledger OK." in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_real_process_exit_codes(ledger):
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{settings_dict['NAME']}"
    else:
        url = f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    run = lambda: subprocess.run(  # noqa: E731
        [sys.executable, "manage.py", "verify_ledger"],
        env={"DATABASE_URL": url, "DEBUG": "true", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    ok = run()
    assert ok.returncode == 0, ok.stderr
    a, _ = ledger
    Account.objects.filter(id=a.id).update(balance=1)
    bad = run()
    assert bad.returncode == 1
    assert "does not balance" in bad.stderr


def test_a_batch_missing_items_fails(ledger, user, capsys):
    from transactions.models import Batch

    call_command("verify_ledger")
    partial = Batch.objects.create(
        initiator=user,
        kind="TRANSFER",
        idempotency_key="b",
        fingerprint="f",
        status="COMPLETED",
        size=2,
    )
    with pytest.raises(CommandError):
        call_command("verify_ledger")
    out = capsys.readouterr().out
    assert f"batch {partial.id} (COMPLETED): 0 transactions for 2 items" in out

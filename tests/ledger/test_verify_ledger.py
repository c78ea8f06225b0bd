"""`manage.py verify_ledger` passes on a sound ledger and exits 1 on a corrupted one."""

import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Account, AccountStatusChange
from accounts.services import account_close, account_freeze, account_unfreeze
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


def test_entries_between_freezes_are_sound(ledger, capsys):
    a, b = ledger
    account_freeze(account_id=str(b.id), actor=None)
    account_unfreeze(account_id=str(b.id), actor=None)
    transfer(a, b, "1")
    # Frozen for good after its entries: they were all posted while it was ACTIVE.
    account_freeze(account_id=str(b.id), actor=None)
    call_command("verify_ledger")
    assert "Ledger OK." in capsys.readouterr().out


def _move_change_to(change: AccountStatusChange, moment) -> None:
    # Around the service, which stamps a change after every earlier entry of its account.
    AccountStatusChange.objects.filter(id=change.id).update(created_at=moment)


def test_an_entry_while_its_account_was_frozen_is_reported(ledger, capsys):
    _, b = ledger
    account_freeze(account_id=str(b.id), actor=None)
    account_unfreeze(account_id=str(b.id), actor=None)
    credit = b.entries.get()
    freeze, _ = AccountStatusChange.objects.filter(account=b).order_by("created_at")
    _move_change_to(freeze, credit.created_at - timedelta(seconds=1))
    with pytest.raises(CommandError):
        call_command("verify_ledger")
    out = capsys.readouterr().out
    assert "Entries posted while their account was not ACTIVE:" in out
    assert (
        f"account {b.id}: an entry of transaction {credit.transaction_id} at "
        f"{credit.created_at.replace(tzinfo=None)}"
    ) in out.replace("+00:00", "")
    assert out.count(f"account {b.id}: an entry of") == 1
    assert "while the account was FROZEN" in out


def test_an_entry_while_its_account_was_closed_is_reported(
    ledger, user, make_user, make_account, capsys
):
    a, _ = ledger
    c = make_account(make_user())
    transfer(a, c, "1")
    transfer(c, a, "1")  # empty again: it may close
    account_close(account_id=str(c.id), actor=None)
    first = c.entries.order_by("created_at").first()
    _move_change_to(AccountStatusChange.objects.get(account=c), first.created_at)
    with pytest.raises(CommandError):
        call_command("verify_ledger")
    out = capsys.readouterr().out
    assert out.count(f"account {c.id}: an entry of") == 2
    assert "while the account was CLOSED" in out


def test_an_entry_before_the_first_change_is_held_to_its_from_status(
    ledger, make_user, make_account, capsys
):
    a, _ = ledger
    # Frozen from the start with no history (around the service), then unfrozen by the
    # service: the history says it was FROZEN until that change.
    c = make_account(make_user())
    Account.objects.filter(id=c.id).update(status="FROZEN")
    account_unfreeze(account_id=str(c.id), actor=None)
    transfer(a, c, "1")
    call_command("verify_ledger")
    assert "Ledger OK." in capsys.readouterr().out
    _move_change_to(AccountStatusChange.objects.get(account=c), timezone.now())
    with pytest.raises(CommandError):
        call_command("verify_ledger")
    assert f"account {c.id}: an entry of" in capsys.readouterr().out


def test_an_account_never_changed_is_held_to_its_status(ledger, capsys):
    _, b = ledger
    Account.objects.filter(id=b.id).update(status="FROZEN")
    with pytest.raises(CommandError):
        call_command("verify_ledger")
    assert f"account {b.id}: an entry of" in capsys.readouterr().out


def test_a_status_change_is_stamped_after_the_account_s_last_change(ledger):
    _, b = ledger
    ahead = timezone.now() + timedelta(minutes=5)
    # The clock behind the account's last change (a posting stamped by another server).
    Account.objects.filter(id=b.id).update(updated_at=ahead)
    account_freeze(account_id=str(b.id), actor=None)
    change = AccountStatusChange.objects.get(account=b)
    assert change.created_at == ahead + timedelta(microseconds=1)
    assert Account.objects.get(id=b.id).updated_at == change.created_at


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

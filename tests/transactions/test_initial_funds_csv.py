"""`manage.py initial_funds --csv FILE`: a system user seeds many accounts as one batch, all or
nothing, idempotent per key."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account
from ledger.selectors import ledger_verify
from transactions.models import Batch, Transaction


def _run(*args) -> str:
    out = StringIO()
    call_command("initial_funds", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def targets(system_user, user, make_account):
    return [make_account(user), make_account(user), make_account(user, currency="USD")]


def _csv(tmp_path, rows, header="account,amount,reference"):
    path = tmp_path / "seed.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return str(path)


def balances(accounts):
    return [Account.objects.get(id=a.id).balance for a in accounts]


def test_a_csv_seeds_every_account_as_one_batch(tmp_path, system_user, targets):
    a, b, usd = targets
    path = _csv(tmp_path, [f"{a.id},10,welcome", f"{b.id},20.50,", f"{usd.id},3,usd"])
    out = _run("--csv", path, "--key", "seed-1")
    batch = Batch.objects.get()
    assert (
        out.strip()
        == f"Posted as {system_user.email}: batch {batch.id} of 3 initial funds, key seed-1."
    )
    assert (batch.kind, batch.status, batch.size) == ("INITIAL_FUNDS", "COMPLETED", 3)
    items = Transaction.objects.filter(batch=batch).order_by("batch_index")
    assert [(t.to_account_id, t.amount, t.reference) for t in items] == [
        (a.id, 1000, "welcome"),
        (b.id, 2050, None),
        (usd.id, 300, "usd"),
    ]
    assert balances(targets) == [1000, 2050, 300]
    assert "Already processed" in _run("--csv", path, "--key", "seed-1")
    assert balances(targets) == [1000, 2050, 300]
    assert ledger_verify().ok


def test_one_bad_row_posts_nothing(tmp_path, system_user, targets):
    a, b, _ = targets
    path = _csv(tmp_path, [f"{a.id},10,", f"{b.id},10,", "00000000-0000-0000-0000-000000000000,1,"])
    with pytest.raises(CommandError, match="at row 3: Invalid toAccount"):
        _run("--csv", path)
    assert balances(targets) == [0, 0, 0]
    assert not Transaction.objects.filter(kind="INITIAL_FUNDS").exists()


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        ([], "account,amount", "needs a header"),
        (["x,1"], "acct,amt", "needs a header"),
        (["{a},-1"], "account,amount", "Line 2: the amount"),
        (["{a},1,line\tbreak"], "account,amount,reference", "Line 2: a reference"),
    ],
)
def test_malformed_files_are_refused(tmp_path, targets, rows, header, message):
    rows = [row.format(a=targets[0].id) for row in rows]
    with pytest.raises(CommandError, match=message):
        _run("--csv", _csv(tmp_path, rows, header))
    assert not Batch.objects.exists()


def test_csv_excludes_to_and_amount(tmp_path, targets):
    with pytest.raises(CommandError, match="give either --csv or --to"):
        _run("--csv", _csv(tmp_path, [f"{targets[0].id},1,"]), "--to", str(targets[0].id))

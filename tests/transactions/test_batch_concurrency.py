"""Concurrent batches over the same accounts, from real threads against the real database: no
deadlock (every batch is answered 201 or a recorded 400, never a 503 or 500), no overdraft, and
the ledger verifies."""

from collections import Counter

import pytest

from accounts.models import Account
from ledger.selectors import ledger_verify
from tests.conftest import client_for
from tests.transactions.helpers import post_in_parallel
from transactions.models import Batch

URL = "/api/transactions/batch"
pytestmark = pytest.mark.django_db(transaction=True)


def item(sender, receiver, amount):
    return {"fromAccount": str(sender.id), "toAccount": str(receiver.id), "amount": amount}


def test_crossing_batches_over_the_same_accounts_all_complete(user, make_account, fund):
    a, b, c, d = (make_account(user) for _ in range(4))
    for account in (a, b, c, d):
        fund(account, "100")
    # Every batch touches all four accounts, in orders that cross each other.
    orders = [(a, b, c, d), (d, c, b, a), (b, d, a, c), (c, a, d, b)]
    calls = []
    for i in range(24):
        w, x, y, z = orders[i % 4]
        items = [item(w, x, "3"), item(x, y, "3"), item(y, z, "3"), item(z, w, "3")]
        calls.append((client_for(user), URL, {"idempotencyKey": f"k{i}", "transfers": items}))
    codes = post_in_parallel(calls)
    assert codes == [201] * 24
    assert [acc.balance for acc in Account.objects.filter(id__in=[a.id, b.id, c.id, d.id])] == [
        10000
    ] * 4
    assert Batch.objects.filter(status="COMPLETED").count() == 24
    assert ledger_verify().ok


def test_batches_that_together_overdraw_leave_exactly_the_affordable_ones(
    user, make_user, make_account, fund
):
    a = make_account(user)
    b, c = make_account(make_user()), make_account(make_user())
    fund(a, "100")
    calls = [
        (
            client_for(user),
            URL,
            {"idempotencyKey": f"k{i}", "transfers": [item(a, b, "10"), item(a, c, "10")]},
        )
        for i in range(16)
    ]
    codes = post_in_parallel(calls)
    assert Counter(codes) == {201: 5, 400: 11}
    assert Account.objects.get(id=a.id).balance == 0
    failed = Batch.objects.filter(status="FAILED")
    assert failed.count() == 11
    assert set(failed.values_list("failure_code", flat=True)) == {"insufficient_funds"}
    assert ledger_verify().ok

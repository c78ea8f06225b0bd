"""Real threads: parallel reversals of one transfer move its money back exactly once, and a
reversal racing the receiver's own spending never takes their balance below zero."""

from collections import Counter

import pytest

from accounts.models import Account
from ledger.selectors import ledger_verify
from tests.conftest import client_for
from tests.transactions.helpers import post_in_parallel, transfer
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_parallel_reversals_with_different_keys_reverse_once(
    user, make_user, make_account, fund, system_user
):
    sender, receiver = make_account(user), make_account(make_user())
    fund(sender, "100")
    original = transfer(sender, receiver, "60")
    url = f"/api/transactions/{original.id}/reverse"
    calls = [
        (client_for(system_user), url, {"idempotencyKey": f"r{i}", "reason": "dispute"})
        for i in range(20)
    ]
    codes = post_in_parallel(calls)
    assert Counter(codes) == {201: 1, 400: 19}
    assert Account.objects.get(id=sender.id).balance == 10000
    assert Account.objects.get(id=receiver.id).balance == 0
    assert Transaction.objects.get(id=original.id).status == "REVERSED"
    assert Transaction.objects.filter(reversal_of=original, status="COMPLETED").count() == 1
    assert ledger_verify().ok


def test_a_reversal_racing_the_receivers_spending_never_overdraws(
    user, make_user, make_account, fund, system_user
):
    sender = make_account(user)
    owner = make_user()
    receiver, elsewhere = make_account(owner), make_account(owner)
    fund(sender, "100")
    original = transfer(sender, receiver, "60")
    spend = {
        "fromAccount": str(receiver.id),
        "toAccount": str(elsewhere.id),
        "amount": "60",
        "idempotencyKey": "spend",
    }
    reverse = {"idempotencyKey": "rev", "reason": "dispute"}
    codes = post_in_parallel(
        [
            (client_for(owner), "/api/transactions", spend),
            (client_for(system_user), f"/api/transactions/{original.id}/reverse", reverse),
        ]
    )
    assert sorted(codes) == [201, 400]
    assert Account.objects.get(id=receiver.id).balance == 0
    moved_back = Transaction.objects.get(id=original.id).status == "REVERSED"
    assert Account.objects.get(id=sender.id).balance == (10000 if moved_back else 4000)
    assert ledger_verify().ok

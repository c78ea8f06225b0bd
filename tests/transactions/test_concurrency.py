"""Real threads against the real database: no overdraft, no double transfer, no deadlock."""

from collections import Counter

import pytest

from accounts.models import Account
from ledger.selectors import ledger_verify
from tests.conftest import client_for
from tests.transactions.helpers import post_in_parallel
from transactions.models import Transaction

URL = "/api/transactions"
pytestmark = pytest.mark.django_db(transaction=True)


def run_parallel(requests):
    """POST every (client, body) to the transfers endpoint at once; return the status codes."""
    return post_in_parallel([(client, URL, data) for client, data in requests])


def body(sender, receiver, key, amount="10"):
    return {
        "fromAccount": str(sender.id),
        "toAccount": str(receiver.id),
        "amount": amount,
        "idempotencyKey": key,
    }


def test_forty_parallel_transfers_of_ten_from_a_hundred_leave_exactly_ten(
    user, make_user, make_account, fund
):
    sender, receiver = make_account(user), make_account(make_user())
    fund(sender, "100")
    clients = [client_for(user) for _ in range(40)]
    codes = run_parallel([(c, body(sender, receiver, f"k{i}")) for i, c in enumerate(clients)])
    assert Counter(codes) == {201: 10, 400: 30}
    assert Account.objects.get(id=sender.id).balance == 0
    assert Account.objects.get(id=receiver.id).balance == 10000
    assert Transaction.objects.filter(kind="TRANSFER", status="COMPLETED").count() == 10
    assert (
        Transaction.objects.filter(kind="TRANSFER", failure_code="insufficient_funds").count() == 30
    )
    assert ledger_verify().ok


def test_twenty_parallel_requests_with_one_key_move_money_once(user, make_account, fund):
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "100")
    clients = [client_for(user) for _ in range(20)]
    codes = run_parallel([(c, body(sender, receiver, "same-key")) for c in clients])
    # One wins; the others wait for its lock, lose on the unique key and replay it.
    assert Counter(codes) == {201: 1, 200: 19}
    assert Transaction.objects.filter(kind="TRANSFER").count() == 1
    assert Account.objects.get(id=sender.id).balance == 9000
    assert Account.objects.get(id=receiver.id).balance == 1000
    assert ledger_verify().ok


def test_sixty_crossing_transfers_all_succeed_without_deadlock(user, make_user, make_account, fund):
    other = make_user()
    a, b = make_account(user), make_account(other)
    fund(a, "1000")
    fund(b, "1000")
    ca, cb = client_for(user), client_for(other)
    requests = []
    for i in range(30):
        requests.append((ca, body(a, b, f"ab{i}", "7")))
        requests.append((cb, body(b, a, f"ba{i}", "5")))
    codes = run_parallel(requests)
    assert codes == [201] * 60
    balances = {x.id: x.balance for x in Account.objects.filter(id__in=[a.id, b.id])}
    assert balances[a.id] == 100000 - 30 * 700 + 30 * 500
    assert balances[b.id] == 100000 + 30 * 700 - 30 * 500
    assert sum(balances.values()) == 200000
    assert ledger_verify().ok

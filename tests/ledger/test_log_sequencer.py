"""The public log is fed by the one events sequencer: numbering the committed events appends
every completed transaction (in commit order, reversals and batch items included) and the
events worker's periodic pass signs a checkpoint when the log grew."""

import pytest

from bankledger.events import consumers
from bankledger.events.services import events_sequence
from ledger.exceptions import InsufficientFunds
from ledger.log.selectors import log_size
from ledger.log.services import log_checkpoint_create
from ledger.models import Checkpoint
from tests.transactions.helpers import transfer


@pytest.fixture
def funded(user, make_account, fund):
    source, target = make_account(user), make_account(user)
    fund(source, "100.00")
    return source, target


def test_numbering_the_events_appends_completed_transactions_to_the_log(api, funded):
    source, target = funded
    moved = transfer(source, target, "10.00")
    with pytest.raises(InsufficientFunds):
        transfer(source, target, "1000.00")  # recorded FAILED: never a leaf
    assert log_size() == 0

    while events_sequence():
        pass

    assert log_size() == 2  # the initial funds, then the transfer
    receipt = api.get(f"/api/transactions/{moved.id}/receipt").json()["receipt"]
    assert receipt["logIndex"] == 1


def test_the_worker_pass_signs_a_checkpoint_when_the_log_grew(funded, monkeypatch):
    while events_sequence():
        pass
    monkeypatch.setattr(consumers, "_last_run", {})
    consumers.periodic_run()
    assert Checkpoint.objects.order_by("-tree_size").first().tree_size == log_size() == 1
    assert log_checkpoint_create() is None  # nothing new to sign

"""A batch builds its items and their events before it locks its accounts, from an unlocked
read of them (`ledger.posting._draft`; what they are built from, an account's currency and
owner, never changes: tests/accounts/test_account_constraints.py). Here money moves on its
accounts in that window, as a concurrent request could: the engine must notice under the locks
and build the rows again, later in time."""

from decimal import Decimal

import pytest

from accounts.models import Account
from bankledger.events.models import Event
from ledger import posting
from ledger.models import LedgerEntry
from ledger.selectors import balance_as_of, ledger_verify
from transactions.models import Transaction
from transactions.services import BatchItem, batch_create, transfer_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(user, make_user, make_account, fund):
    sender, receiver = make_account(user), make_account(make_user())
    fund(sender, "100")
    return sender, receiver


def after_the_draft(monkeypatch, change):
    """Run `change()` once a batch has drafted its rows and before it locks its accounts."""
    draft = posting._draft

    def drafted(*args, **kwargs):
        made = draft(*args, **kwargs)
        change()
        return made

    monkeypatch.setattr(posting, "_draft", drafted)


def drafts_seen(monkeypatch) -> list:
    """The drafts the batches of the test make."""
    draft, seen = posting._draft, []

    def drafted(*args, **kwargs):
        seen.append(draft(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(posting, "_draft", drafted)
    return seen


def batch(user, sender, receiver, *amounts):
    items = [
        BatchItem(from_account_id=str(sender.id), to_account_id=str(receiver.id), amount=a)
        for a in amounts
    ]
    return batch_create(initiator=user, items=items, idempotency_key="b").items


def test_a_movement_between_the_draft_and_the_locks_comes_first_in_time(
    monkeypatch, user, accounts
):
    sender, receiver = accounts
    moved = []
    after_the_draft(
        monkeypatch,
        lambda: moved.append(
            transfer_create(
                initiator=user,
                from_account_id=str(sender.id),
                to_account_id=str(receiver.id),
                amount=Decimal("10"),
                idempotency_key="between",
            ).transaction
        ),
    )
    items = batch(user, sender, receiver, Decimal("1"), Decimal("2"))
    between = moved[0]
    # Locked after the transfer, so later than it: a balance as of the transfer's time
    # includes the transfer and none of the batch.
    assert all(item.created_at >= between.created_at for item in items)
    assert balance_as_of(account=Account(id=sender.id), moment=between.created_at) == 9000
    legs = LedgerEntry.objects.filter(account_id=sender.id).order_by("created_at", "id")
    assert [leg.balance_after for leg in legs] == [10000, 9000, 8900, 8700]
    assert Event.objects.filter(type="transaction.completed").count() == 4  # funds, 1 + 2 items
    assert ledger_verify().ok


def test_with_nothing_in_between_the_draft_is_what_is_written(monkeypatch, user, accounts):
    sender, receiver = accounts
    seen = drafts_seen(monkeypatch)
    items = batch(user, sender, receiver, Decimal("1"), Decimal("2"))
    (draft,) = seen
    assert [item.id for item in items] == [row.id for row in draft.rows]
    stored = Transaction.objects.filter(batch_id=draft.batch_id).order_by("batch_index")
    assert [(tx.id, tx.created_at) for tx in stored] == [(r.id, r.created_at) for r in draft.rows]
    assert ledger_verify().ok

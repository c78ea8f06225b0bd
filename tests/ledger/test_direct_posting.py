"""On PostgreSQL a one-leg movement between accounts the engine has read before is one
statement, its own database transaction (`ledger.posting._post_direct`): the locked read, the
checks a movement passes as prepared and the writes, each write conditioned on the checks.
Whatever it cannot decide alone it leaves to the locked path, having written nothing: every
refusal (recorded by the locked path), a payer with holds or a daily limit, a key used before,
an entry later than the row's time that a new stamp would not follow (otherwise it stamps the
row again and tries once more). Each check of the statement is held here to the rule it
stands for: a test below fails when one is left out. (What is available and what holds reserve
are database rules too, a CHECK and a trigger: without the statement's own check, the
statement would fail on them instead of answering, which a test below also sees.) Its casts,
which a batch's arrays share, refuse a value too long as a plain INSERT does."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_freeze, account_limits_set
from bankledger.events.models import Event
from ledger import posting
from ledger.exceptions import (
    AccountNotActive,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    LimitExceeded,
    NotAccountOwner,
)
from ledger.models import LedgerEntry
from ledger.selectors import ledger_verify
from transactions.hold_services import hold_create
from transactions.models import Transaction
from transactions.services import BatchItem, batch_create, transfer_create

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="the one-statement path is PostgreSQL's"
    ),
]

DIRECT = "WITH locked AS"


@pytest.fixture
def known(user, make_user, make_account, fund):
    """A funded sender and a receiver that a first transfer has made known to the engine."""
    sender, receiver = make_account(user), make_account(make_user())
    fund(sender, "100")
    send(user, sender, receiver, "1", key="first")
    return sender, receiver


def send(user, sender, receiver, amount, *, key):
    return transfer_create(
        initiator=user,
        from_account_id=str(sender.id),
        to_account_id=str(receiver.id),
        amount=Decimal(amount),
        idempotency_key=key,
    )


def failed_statements(queries) -> int:
    """Statements undone inside the test's database transaction: a savepoint rolled back."""
    return sum("ROLLBACK TO SAVEPOINT" in query["sql"] for query in queries.captured_queries)


def statements(queries) -> list[str]:
    """The statements sent, without the savepoints of the test's own database transaction."""
    sent = [query["sql"] for query in queries.captured_queries]
    return [sql[: len(DIRECT)] for sql in sent if "SAVEPOINT" not in sql.split('"')[0]]


def test_a_transfer_between_known_accounts_is_one_statement(user, known):
    sender, receiver = known
    with CaptureQueriesContext(connection) as queries:
        tx = send(user, sender, receiver, "2.50", key="direct").transaction
    assert statements(queries) == [DIRECT]
    row = Transaction.objects.get(id=tx.id)
    assert (row.status, row.amount, row.created_at) == ("COMPLETED", 250, tx.created_at)
    legs = LedgerEntry.objects.filter(transaction=row).order_by("type")
    assert [(leg.type, leg.amount, leg.balance_after) for leg in legs] == [
        ("CREDIT", 250, 350),
        ("DEBIT", 250, 100_00 - 100 - 250),
    ]
    assert Account.objects.get(id=sender.id).balance == 100_00 - 100 - 250
    assert Account.objects.get(id=receiver.id).updated_at == tx.created_at
    event = Event.objects.get(data___id=str(tx.id))
    assert event.type == "transaction.completed"
    assert sorted(event.audience) == sorted([str(sender.user_id), str(receiver.user_id)])
    assert ledger_verify().ok


def test_more_than_available_is_refused_and_recorded_by_the_locked_path(user, known):
    sender, receiver = known
    with CaptureQueriesContext(connection) as queries, pytest.raises(InsufficientFunds) as refusal:
        send(user, sender, receiver, "99.01", key="too-much")
    assert statements(queries)[0] == DIRECT and len(statements(queries)) > 1
    assert failed_statements(queries) == 0
    assert refusal.value.transaction.status == "FAILED"
    assert Account.objects.get(id=sender.id).balance == 99_00
    assert not LedgerEntry.objects.filter(transaction_id=refusal.value.transaction.id).exists()


def test_all_that_is_available_moves_in_one_statement(user, known):
    sender, receiver = known
    with CaptureQueriesContext(connection) as queries:
        send(user, sender, receiver, "99", key="all")
    assert statements(queries) == [DIRECT]
    assert Account.objects.get(id=sender.id).balance == 0


@pytest.mark.parametrize("side", [0, 1], ids=["sender", "receiver"])
def test_an_account_not_active_is_refused(user, system_user, known, side):
    sender, receiver = known
    account_freeze(account_id=str(known[side].id), actor=system_user)
    with pytest.raises(AccountNotActive) as refusal:
        send(user, sender, receiver, "1", key="frozen")
    assert refusal.value.transaction.status == "FAILED"
    assert [Account.objects.get(id=a.id).balance for a in known] == [99_00, 100]


def test_what_a_hold_reserves_is_not_spent(user, known):
    sender, receiver = known
    hold_create(
        initiator=user,
        from_account_id=str(sender.id),
        to_account_id=str(receiver.id),
        amount=Decimal("90"),
        idempotency_key="hold",
    )
    with CaptureQueriesContext(connection) as queries, pytest.raises(InsufficientFunds):
        send(user, sender, receiver, "10", key="over-the-hold")
    assert failed_statements(queries) == 0
    send(user, sender, receiver, "9", key="within")
    assert Account.objects.get(id=sender.id).balance == 90_00


def test_a_daily_outflow_limit_is_kept(user, system_user, known):
    sender, receiver = known
    account_limits_set(
        account_id=str(sender.id), actor=system_user, daily_outflow_limit=Decimal("5")
    )
    with pytest.raises(LimitExceeded):
        send(user, sender, receiver, "5", key="over-the-limit")  # 1 left already today
    send(user, sender, receiver, "4", key="at-the-limit")
    assert Account.objects.get(id=sender.id).balance == 95_00


@pytest.mark.parametrize("side", [0, 1], ids=["sender", "receiver"])
def test_an_entry_later_than_the_row_leaves_it_to_the_locked_path(user, known, side):
    """An account changed after the row was stamped (by a posting that took the locks first):
    written now, the entries would go before that change in time."""
    sender, receiver = known
    later = timezone.now() + timedelta(minutes=5)
    Account.objects.filter(id=known[side].id).update(updated_at=later)
    with CaptureQueriesContext(connection) as queries:
        tx = send(user, sender, receiver, "1", key="after-a-later-change").transaction
    # A change stamped in the future: no new stamp would follow it, so no second try.
    assert statements(queries)[0] == DIRECT and statements(queries)[1] != DIRECT
    assert Transaction.objects.get(idempotency_key="after-a-later-change").id == tx.id
    assert tx.status == "COMPLETED"


def test_a_posting_stamped_later_that_locked_first_costs_one_more_try(user, known, monkeypatch):
    """The row was stamped before the receiver's last change, which was over by the time the
    statement ran: stamped again, the row follows that change, and goes in the second try."""
    sender, receiver = known
    params, calls, changes = posting._direct_params, [], []

    def stamped_before_the_change(*args):
        made = params(*args)
        calls.append(args[-1].created_at)
        if len(calls) == 1:
            # Another posting, stamped after this row, took the locks first and is over now.
            changes.append(calls[0] + timedelta(milliseconds=20))
            Account.objects.filter(id=receiver.id).update(updated_at=changes[0])
            time.sleep(0.05)  # its time is past when the statement runs
        return made

    monkeypatch.setattr(posting, "_direct_params", stamped_before_the_change)
    with CaptureQueriesContext(connection) as queries:
        tx = send(user, sender, receiver, "1", key="second-try").transaction
    statements_sent = [sql for sql in statements(queries) if not sql.startswith("UPDATE")]
    assert statements_sent == [DIRECT, DIRECT]
    assert calls[0] < changes[0] < calls[1] == tx.created_at
    assert Account.objects.get(id=receiver.id).updated_at == tx.created_at
    assert ledger_verify().ok


def kept_wrongly(monkeypatch, account, **changes):
    """What the engine keeps of `account`, changed: a stale hint."""
    kept = posting._IDENTITIES[account.id]
    fields = {"id": kept.id, "user_id": kept.user_id, "currency": kept.currency, **changes}
    monkeypatch.setitem(posting._IDENTITIES, account.id, posting._Identity(**fields))


def test_the_owner_is_checked_on_the_locked_row(user, make_user, known, monkeypatch):
    """What the engine keeps of an account is a hint: a wrong owner there moves nothing."""
    sender, receiver = known
    stranger = make_user()
    kept_wrongly(monkeypatch, sender, user_id=stranger.id)
    with pytest.raises(NotAccountOwner):
        send(stranger, sender, receiver, "1", key="not-mine")
    assert Account.objects.get(id=sender.id).balance == 99_00


def test_the_receivers_owner_is_checked_on_the_locked_row(user, make_user, known, monkeypatch):
    """The event goes to both owners: a wrong receiver's owner kept would send it elsewhere."""
    sender, receiver = known
    kept_wrongly(monkeypatch, receiver, user_id=make_user().id)
    with CaptureQueriesContext(connection) as queries:
        tx = send(user, sender, receiver, "1", key="to-whom").transaction
    assert statements(queries)[0] == DIRECT and len(statements(queries)) > 1
    event = Event.objects.get(data___id=str(tx.id))
    assert sorted(event.audience) == sorted([str(sender.user_id), str(receiver.user_id)])


@pytest.mark.parametrize("side", [0, 1], ids=["sender", "receiver"])
def test_the_currency_is_checked_on_the_locked_row(
    user, make_user, make_account, fund, monkeypatch, side
):
    """One account in yen, kept as if in rupees: the statement must not move rupees into it
    (or yen out of it as rupees); the locked path refuses the currency mismatch."""
    currencies = ["INR", "INR"]
    currencies[side] = "JPY"
    sender = make_account(user, currencies[0])
    receiver = make_account(make_user(), currencies[1])
    fund(sender, "100")
    fund(receiver, "100")  # both now read by the engine
    in_yen = (sender, receiver)[side]
    kept_wrongly(monkeypatch, in_yen, currency="INR")
    with CaptureQueriesContext(connection) as queries, pytest.raises(CurrencyMismatch):
        send(user, sender, receiver, "1", key="yen")
    assert statements(queries)[0] == DIRECT
    assert Account.objects.get(id=in_yen.id).balance == 100  # 100 yen: no decimals


def test_a_key_used_before_is_replayed_inside_a_callers_transaction(user, known):
    sender, receiver = known
    with transaction.atomic():
        first = send(user, sender, receiver, "2", key="again")
        again = send(user, sender, receiver, "2", key="again")
        with pytest.raises(IdempotencyConflict):
            send(user, sender, receiver, "3", key="again")
        assert Transaction.objects.filter(idempotency_key="again").count() == 1
    assert (again.replayed, again.transaction.id) == (True, first.transaction.id)
    assert Account.objects.get(id=sender.id).balance == 97_00


def test_what_the_engine_keeps_of_accounts_is_bounded(user, make_user, make_account, monkeypatch):
    monkeypatch.setattr(posting, "_IDENTITIES", {})
    monkeypatch.setattr(posting, "_IDENTITIES_KEPT", 2)
    sender, receiver, third = make_account(user), make_account(make_user()), make_account(user)
    posting._accounts_read(connection, [sender.id, receiver.id], lock=False)
    assert set(posting._IDENTITIES) == {sender.id, receiver.id}
    posting._accounts_read(connection, [third.id], lock=False)
    assert set(posting._IDENTITIES) == {third.id}


@pytest.mark.django_db(transaction=True)  # no test transaction: the statement is its own
def test_outside_a_transaction_a_refusal_and_a_replay_take_the_locked_path(user, known):
    sender, receiver = known
    with CaptureQueriesContext(connection) as queries, pytest.raises(InsufficientFunds):
        send(user, sender, receiver, "500", key="too-much")
    assert [q["sql"][: len(DIRECT)] for q in queries.captured_queries][:2] == [DIRECT, "BEGIN"]
    first = send(user, sender, receiver, "2", key="twice")
    with CaptureQueriesContext(connection) as queries:
        again = send(user, sender, receiver, "2", key="twice")
    assert statements(queries)[0] == DIRECT and len(statements(queries)) > 1
    assert (again.replayed, again.transaction.id) == (True, first.transaction.id)
    assert Account.objects.get(id=sender.id).balance == 97_00
    assert ledger_verify().ok


def test_a_value_too_long_is_refused_not_cut_short(user, known):
    """The statement casts its parameters to the columns' types: a length-limited string as
    text, so that the INSERT refuses it as the locked path's does."""
    sender, receiver = known
    with pytest.raises(DataError), transaction.atomic():
        send(user, sender, receiver, "1", key="k" * 256)
    assert not Transaction.objects.filter(idempotency_key__startswith="kkk").exists()


def test_a_batch_item_too_long_is_refused_not_cut_short(user, known):
    """A batch's rows go as one array per column (`bankledger.core.writes`), cast the same way."""
    sender, receiver = known
    items = [
        BatchItem(from_account_id=str(sender.id), to_account_id=str(receiver.id), amount=1)
        for _ in range(3)
    ]
    items[1] = BatchItem(
        from_account_id=str(sender.id),
        to_account_id=str(receiver.id),
        amount=1,
        reference="r" * 129,
    )
    with pytest.raises(DataError), transaction.atomic():
        batch_create(initiator=user, items=items, idempotency_key="long")
    assert Account.objects.get(id=sender.id).balance == 99_00

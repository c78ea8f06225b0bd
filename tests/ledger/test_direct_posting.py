"""On PostgreSQL a one-leg movement between accounts the engine has read before is one
statement, its own database transaction (`ledger.posting._post_direct`): the locked read, the
checks a movement passes as prepared and the writes, each write conditioned on the checks.
Whatever it cannot decide alone it leaves to the locked path, having written nothing: every
refusal (recorded by the locked path), a payer with holds or a daily limit, an entry later than
the row's time, a key used before. Each check of the statement is held here to the rule it
stands for: a test below fails when one is left out. (What is available and what holds reserve
are database rules too, a CHECK and a trigger: without the statement's own check, the
statement would fail on them instead of answering, which a test below also sees.)"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_freeze, account_limits_set
from bankledger.events.models import Event
from ledger import posting
from ledger.exceptions import (
    AccountNotActive,
    IdempotencyConflict,
    InsufficientFunds,
    LimitExceeded,
    NotAccountOwner,
)
from ledger.models import LedgerEntry
from ledger.selectors import ledger_verify
from transactions.hold_services import hold_create
from transactions.models import Transaction
from transactions.services import transfer_create

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


def test_an_account_not_active_is_refused(user, system_user, known):
    sender, receiver = known
    account_freeze(account_id=str(receiver.id), actor=system_user)
    with pytest.raises(AccountNotActive) as refusal:
        send(user, sender, receiver, "1", key="frozen")
    assert refusal.value.transaction.status == "FAILED"
    assert Account.objects.get(id=receiver.id).balance == 100


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


def test_an_entry_later_than_the_row_leaves_it_to_the_locked_path(user, known):
    """An account changed after the row was stamped (by a posting that took the locks first):
    written now, the entries would go before that change in time."""
    sender, receiver = known
    later = timezone.now() + timedelta(minutes=5)
    Account.objects.filter(id=receiver.id).update(updated_at=later)
    with CaptureQueriesContext(connection) as queries:
        tx = send(user, sender, receiver, "1", key="after-a-later-change").transaction
    assert statements(queries)[0] == DIRECT and len(statements(queries)) > 1
    assert Transaction.objects.get(idempotency_key="after-a-later-change").id == tx.id
    assert tx.status == "COMPLETED"


def test_the_owner_is_checked_on_the_locked_row(user, make_user, known, monkeypatch):
    """What the engine keeps of an account is a hint: a wrong owner there moves nothing."""
    sender, receiver = known
    stranger = make_user()
    kept = posting._IDENTITIES[sender.id]
    monkeypatch.setitem(
        posting._IDENTITIES, sender.id, posting._Identity(kept.id, stranger.id, kept.currency)
    )
    with pytest.raises(NotAccountOwner):
        send(stranger, sender, receiver, "1", key="not-mine")
    assert Account.objects.get(id=sender.id).balance == 99_00


def test_the_currency_is_checked_on_the_locked_row(user, known, monkeypatch):
    """A wrong currency kept would convert the amount with the wrong number of decimals."""
    sender, receiver = known
    for account in (sender, receiver):
        kept = posting._IDENTITIES[account.id]
        monkeypatch.setitem(
            posting._IDENTITIES, account.id, posting._Identity(kept.id, kept.user_id, "JPY")
        )
    with CaptureQueriesContext(connection) as queries:
        tx = send(user, sender, receiver, "3", key="yen").transaction
    assert statements(queries)[0] == DIRECT and len(statements(queries)) > 1
    assert (tx.currency, tx.amount) == ("INR", 300)


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

"""Ledger entries cannot be changed or removed: not by the model, not by a queryset, not by
raw SQL (a trigger on PostgreSQL and SQLite alike)."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from ledger.models import ImmutableError, LedgerEntry


@pytest.fixture
def entry(user, make_account, fund):
    fund(make_account(user), "10")
    return LedgerEntry.objects.filter(type=LedgerEntry.Type.CREDIT).get()


def test_model_refuses_save_and_delete(entry):
    entry.amount = 1
    with pytest.raises(ImmutableError):
        entry.save()
    with pytest.raises(ImmutableError):
        entry.delete()


def test_queryset_refuses_update_and_delete(entry):
    with pytest.raises(ImmutableError):
        LedgerEntry.objects.filter(id=entry.id).update(amount=1)
    with pytest.raises(ImmutableError):
        LedgerEntry.objects.all().delete()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_ledgerentry SET amount = 1 WHERE id = %s",
        "UPDATE ledger_ledgerentry SET balance_after = 0 WHERE id = %s",
        "DELETE FROM ledger_ledgerentry WHERE id = %s",
    ],
)
def test_raw_sql_update_and_delete_are_refused_by_the_database(entry, sql):
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.id])
    fresh = LedgerEntry.objects.get(id=entry.id)
    assert (fresh.amount, fresh.balance_after) == (1000, 1000)


@pytest.mark.django_db(transaction=True)
def test_flush_lifts_the_triggers_only_for_the_wipe(entry):
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    assert not LedgerEntry.objects.exists()
    # Triggers are back: a new entry is immutable again.
    from accounts.services import account_create, system_user_create
    from transactions.services import initial_funds_create

    system = system_user_create(email="s@example.com", password="Seed-Funds-42!")
    account = account_create(user=system)
    initial_funds_create(
        initiator=system, to_account_id=str(account.id), amount=Decimal(1), idempotency_key="k"
    )
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM ledger_ledgerentry")

"""Account rules hold in the database itself, whatever Python does."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from accounts.models import Account
from accounts.services import funding_account_get_or_create


def _raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_raw_update_driving_a_user_account_negative_fails(user, make_account, fund):
    account = make_account(user)
    fund(account, "5")
    with pytest.raises(IntegrityError):
        _raw("UPDATE accounts_account SET balance = -1 WHERE id = %s", [account.id.hex])
    account.refresh_from_db()
    assert account.balance == 500


def test_funding_account_may_go_negative(system_user):
    funding = funding_account_get_or_create(system_user=system_user, currency="INR")
    Account.objects.filter(id=funding.id).update(balance=-(10**15))
    funding.refresh_from_db()
    assert funding.balance == -(10**15)


def test_closed_account_must_hold_nothing(user, make_account, fund):
    account = make_account(user)
    fund(account, "1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(id=account.id).update(status="CLOSED")


def test_status_and_currency_are_checked_by_the_database(user, make_account):
    account = make_account(user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(id=account.id).update(status="LOCKED")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(id=account.id).update(currency="inr")


def test_an_account_s_currency_and_owner_never_change(user, make_user, make_account):
    account = make_account(user)
    # Written again as they are: allowed.
    Account.objects.filter(id=account.id).update(currency="INR", user=user)
    currency = pytest.raises(IntegrityError, match="the currency of an account never changes")
    with currency, transaction.atomic():
        Account.objects.filter(id=account.id).update(currency="USD")
    owner = pytest.raises(IntegrityError, match="the owner of an account never changes")
    with owner, transaction.atomic():
        Account.objects.filter(id=account.id).update(user=make_user())
    assert Account.objects.filter(id=account.id, currency="INR", user=user).exists()


def test_one_funding_account_per_user_and_currency(system_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(user=system_user, currency="INR", is_funding=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", ["ACTIVE", "FROZEN"])
def test_raw_sql_cannot_reopen_a_closed_account(user, make_account, status):
    account = make_account(user)
    Account.objects.filter(id=account.id).update(status="CLOSED")
    with pytest.raises(DatabaseError, match="cannot be reopened"):
        _raw("UPDATE accounts_account SET status = %s WHERE id = %s", [status, account.id.hex])
    assert Account.objects.get(id=account.id).status == "CLOSED"


@pytest.mark.parametrize(
    ("before", "after"), [("FROZEN", "FROZEN"), ("FROZEN", "ACTIVE"), ("ACTIVE", "FROZEN")]
)
def test_a_balance_changes_only_while_its_account_is_active(
    user, make_account, fund, before, after
):
    account = make_account(user)
    fund(account, "5")
    Account.objects.filter(id=account.id).update(status=before)
    refused = pytest.raises(IntegrityError, match="money moves only between ACTIVE accounts")
    with refused:
        _raw(
            "UPDATE accounts_account SET balance = balance - 1, status = %s WHERE id = %s",
            [after, account.id.hex],
        )
    assert Account.objects.filter(id=account.id, balance=500, status=before).exists()
    # A status change alone is no movement.
    Account.objects.filter(id=account.id).update(status=after)

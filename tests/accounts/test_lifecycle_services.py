"""Account lifecycle services: freeze, unfreeze and close, who may do each, and the audit row."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.exceptions import (
    AccountClosed,
    AccountFrozen,
    AccountNotEmpty,
    AccountNotFound,
    FundingAccountNotClosable,
    InvalidAccountStatus,
    NotSystemUser,
)
from accounts.models import Account, AccountStatusChange
from accounts.services import (
    account_close,
    account_freeze,
    account_status_set,
    account_unfreeze,
    funding_account_get_or_create,
)
from ledger.exceptions import AccountNotActive
from transactions.models import Transaction
from transactions.services import transfer_create


def _status(account) -> str:
    account.refresh_from_db()
    return account.status


def test_system_user_freezes_and_unfreezes_with_an_audit_row_each(system_user, user, make_account):
    account = make_account(user)
    account_freeze(account_id=str(account.id), actor=system_user, reason="fraud review")
    assert _status(account) == "FROZEN"
    account_unfreeze(account_id=str(account.id), actor=system_user, reason="cleared")
    assert _status(account) == "ACTIVE"
    changes = list(account.status_changes.order_by("id"))
    assert [(c.from_status, c.to_status, c.actor, c.reason) for c in changes] == [
        ("ACTIVE", "FROZEN", system_user, "fraud review"),
        ("FROZEN", "ACTIVE", system_user, "cleared"),
    ]
    assert all(c.created_at is not None for c in changes)


@pytest.mark.parametrize("service", [account_freeze, account_unfreeze])
def test_ordinary_user_cannot_freeze_or_unfreeze_even_their_own(user, make_account, service):
    account = make_account(user)
    with pytest.raises(NotSystemUser) as exc:
        service(account_id=str(account.id), actor=user)
    assert exc.value.status_code == 403
    assert _status(account) == "ACTIVE"
    assert not AccountStatusChange.objects.exists()


def test_operator_without_actor_may_freeze_and_is_recorded_as_no_one(user, make_account):
    account = make_account(user)
    account_freeze(account_id=str(account.id), actor=None, reason="ops ticket 7")
    assert _status(account) == "FROZEN"
    change = AccountStatusChange.objects.get()
    assert change.actor is None and change.reason == "ops ticket 7"


def test_owner_closes_their_empty_account(user, make_account):
    account = make_account(user)
    account_close(account_id=str(account.id), actor=user, reason="moving banks")
    assert _status(account) == "CLOSED"
    change = AccountStatusChange.objects.get(account=account)
    assert (change.from_status, change.to_status, change.actor) == ("ACTIVE", "CLOSED", user)


def test_system_user_closes_a_frozen_empty_account(system_user, user, make_account):
    account = make_account(user)
    account_freeze(account_id=str(account.id), actor=system_user)
    account_close(account_id=str(account.id), actor=system_user)
    assert _status(account) == "CLOSED"


def test_owner_cannot_close_a_frozen_account(system_user, user, make_account):
    account = make_account(user)
    account_freeze(account_id=str(account.id), actor=system_user)
    with pytest.raises(AccountFrozen):
        account_close(account_id=str(account.id), actor=user)
    assert _status(account) == "FROZEN"


def test_another_user_cannot_close_an_account_and_learns_nothing(make_user, make_account):
    owner, stranger = make_user(), make_user()
    account = make_account(owner)
    with pytest.raises(AccountNotFound) as exc:
        account_close(account_id=str(account.id), actor=stranger)
    assert exc.value.status_code == 404
    assert _status(account) == "ACTIVE"


def test_closing_with_money_in_it_is_refused(system_user, user, make_account, fund):
    account = make_account(user)
    fund(account, "0.01")
    with pytest.raises(AccountNotEmpty) as exc:
        account_close(account_id=str(account.id), actor=system_user)
    assert exc.value.status_code == 400 and exc.value.code == "account_not_empty"
    assert _status(account) == "ACTIVE"
    assert not AccountStatusChange.objects.exists()


def test_a_funding_account_cannot_be_closed(system_user):
    funding = funding_account_get_or_create(system_user=system_user, currency="INR")
    with pytest.raises(FundingAccountNotClosable):
        account_close(account_id=str(funding.id), actor=None)
    assert _status(funding) == "ACTIVE"


@pytest.mark.parametrize("status", ["ACTIVE", "FROZEN"])
def test_closed_is_final(system_user, user, make_account, status):
    account = make_account(user)
    account_close(account_id=str(account.id), actor=user)
    with pytest.raises(AccountClosed) as exc:
        account_status_set(account_id=str(account.id), status=status, actor=None)
    assert exc.value.status_code == 400
    assert _status(account) == "CLOSED"
    assert AccountStatusChange.objects.filter(account=account).count() == 1


def test_setting_the_current_status_changes_and_records_nothing(system_user, user, make_account):
    account = make_account(user)
    account_freeze(account_id=str(account.id), actor=system_user)
    account_freeze(account_id=str(account.id), actor=system_user)
    assert AccountStatusChange.objects.filter(account=account).count() == 1


@pytest.mark.parametrize("account_id", [str(uuid.uuid4()), "not-a-uuid", "", "1; DROP TABLE"])
def test_unknown_or_malformed_id_is_account_not_found(system_user, account_id):
    with pytest.raises(AccountNotFound):
        account_freeze(account_id=account_id, actor=system_user)


def test_unknown_status_is_refused(user, make_account):
    account = make_account(user)
    with pytest.raises(InvalidAccountStatus):
        account_status_set(account_id=str(account.id), status="DORMANT", actor=None)


def test_a_frozen_account_neither_sends_nor_receives(system_user, user, make_account, fund):
    frozen, other = make_account(user), make_account(user)
    fund(frozen, "50.00")
    fund(other, "50.00")
    account_freeze(account_id=str(frozen.id), actor=system_user)
    for key, (sender, receiver) in {"out": (frozen, other), "in": (other, frozen)}.items():
        with pytest.raises(AccountNotActive):
            transfer_create(
                initiator=user,
                from_account_id=str(sender.id),
                to_account_id=str(receiver.id),
                amount=Decimal("1.00"),
                idempotency_key=key,
            )
    frozen.refresh_from_db()
    other.refresh_from_db()
    assert (frozen.balance, other.balance) == (5000, 5000)
    failed = Transaction.objects.filter(status="FAILED", failure_code="account_not_active")
    assert failed.count() == 2
    account_unfreeze(account_id=str(frozen.id), actor=system_user)
    transfer_create(
        initiator=user,
        from_account_id=str(frozen.id),
        to_account_id=str(other.id),
        amount=Decimal("1.00"),
        idempotency_key="after-unfreeze",
    )
    frozen.refresh_from_db()
    assert frozen.balance == 4900


def test_database_refuses_closing_an_account_with_money_around_the_service(
    user, make_account, fund
):
    account = make_account(user)
    fund(account, "1.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(id=account.id).update(status="CLOSED")


def test_database_refuses_an_audit_row_that_reopens_a_closed_account(user, make_account):
    account = make_account(user)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountStatusChange.objects.create(
            account=account, from_status="CLOSED", to_status="ACTIVE"
        )


@pytest.mark.django_db(transaction=True)
def test_close_racing_a_deposit_never_closes_an_account_with_money(system_user, make_user):
    """A deposit and a close race on the same empty account, many times over: either the deposit
    lands and the close is refused, or the close wins and the deposit is refused; never a closed
    account holding money, never an IntegrityError."""
    owner = make_user()
    sender = Account.objects.create(user=owner, currency="INR")
    funding = funding_account_get_or_create(system_user=system_user, currency="INR")
    transfer_create(
        initiator=system_user,
        from_account_id=str(funding.id),
        to_account_id=str(sender.id),
        amount=Decimal("100.00"),
        idempotency_key="seed",
    )
    for round_ in range(8):
        target = Account.objects.create(user=owner, currency="INR")
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def deposit(target=target, round_=round_, errors=errors, barrier=barrier):
            barrier.wait()
            try:
                transfer_create(
                    initiator=owner,
                    from_account_id=str(sender.id),
                    to_account_id=str(target.id),
                    amount=Decimal("1.00"),
                    idempotency_key=f"race-{round_}",
                )
            except AccountNotActive:
                pass
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        def close(target=target, errors=errors, barrier=barrier):
            barrier.wait()
            try:
                account_close(account_id=str(target.id), actor=owner)
            except AccountNotEmpty:
                pass
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=deposit), threading.Thread(target=close)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        target.refresh_from_db()
        assert (target.status, target.balance) in {("CLOSED", 0), ("ACTIVE", 100)}

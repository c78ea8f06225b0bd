"""Writes to the ledger. Called by the transfer service inside its database transaction, with
both account rows already locked."""

from django.db.models import Case, Value, When
from django.utils import timezone

from accounts.models import Account
from ledger.models import LedgerEntry


def entries_post(*, transaction, debit: Account, credit: Account, amount: int) -> None:
    """One DEBIT on `debit`, one CREDIT on `credit`, each with the balance after it, and both
    cached balances updated, all in the caller's database transaction."""
    now = timezone.now()
    debit.balance -= amount
    credit.balance += amount
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                account=debit,
                transaction=transaction,
                type=LedgerEntry.Type.DEBIT,
                amount=amount,
                balance_after=debit.balance,
                created_at=now,
            ),
            LedgerEntry(
                account=credit,
                transaction=transaction,
                type=LedgerEntry.Type.CREDIT,
                amount=amount,
                balance_after=credit.balance,
                created_at=now,
            ),
        ]
    )
    Account.objects.filter(id__in=[debit.id, credit.id]).update(
        balance=Case(
            When(id=debit.id, then=Value(debit.balance)),
            When(id=credit.id, then=Value(credit.balance)),
        ),
        updated_at=now,
    )

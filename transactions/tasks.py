"""Background tasks for transfers, run by `manage.py db_worker`."""

from django_tasks import task

from bankledger.core.money import format_money
from bankledger.mail.services import email_create
from bankledger.mail.tasks import email_deliver_now
from ledger.models import LedgerEntry
from transactions.models import Transaction

_PARTIES = ("from_account__user", "to_account__user")


@task()
def transfer_emails_send(transaction_id: str) -> list[str]:
    """Tell the sender's owner that money left and the receiver's owner that it arrived; the
    system's funding accounts (the source of initial funds) get no notice. Each notice is
    written into the outbox once and sent; a FAILED transaction moved nothing and sends nothing."""
    return _notices_send(Transaction.objects.select_related(*_PARTIES).get(id=transaction_id))


@task()
def batch_emails_send(batch_id: str) -> list[str]:
    """Every item's notices, for a batch: one outbox row per batch rather than per item (a
    row per item was most of a large batch's time in the database)."""
    items = Transaction.objects.select_related(*_PARTIES).filter(batch_id=batch_id)
    return [status for record in items.order_by("batch_index") for status in _notices_send(record)]


def _notices_send(record: Transaction) -> list[str]:
    if record.status == Transaction.Status.FAILED:
        return []
    entries = {entry.type: entry for entry in record.entries.all()}
    sides = [
        ("debit", record.from_account, record.to_account, LedgerEntry.Type.DEBIT),
        ("credit", record.to_account, record.from_account, LedgerEntry.Type.CREDIT),
    ]
    statuses = []
    for side, account, counterparty, entry_type in sides:
        if account.is_funding:
            continue
        email = email_create(
            key=f"transfer:{record.id}:{side}",
            to=account.user.email,
            template=f"emails/transfer_{side}",
            context={
                "name": account.user.name,
                "amount": format_money(record.amount, record.currency),
                "account": account.id,
                "counterparty": counterparty.id,
                "initial_funds": counterparty.is_funding,
                "transaction": record.id,
                "date": record.created_at,
                "balance_after": format_money(entries[entry_type].balance_after, record.currency),
            },
        )
        statuses.append(email_deliver_now(email_id=str(email.id)))
    return statuses

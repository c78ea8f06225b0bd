"""The transaction output serializer writes its fields out by hand (it renders every transfer
twice: its event and its answer); here it is held to DRF's generic rendering of the same
declared fields, for every kind, status and link a transaction can have."""

from decimal import Decimal

import pytest
from rest_framework import serializers

from ledger.exceptions import InsufficientFunds
from transactions.hold_services import hold_capture, hold_create
from transactions.models import Transaction
from transactions.serializers import TRANSACTION_OUTPUT
from transactions.services import BatchItem, batch_create, transaction_reverse, transfer_create


@pytest.fixture
def every_kind(user, system_user, make_account, fund):
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "100.50")
    transfer = transfer_create(
        initiator=user,
        from_account_id=str(sender.id),
        to_account_id=str(receiver.id),
        amount=Decimal("1.25"),
        idempotency_key="plain",
        reference="invoice 7",
        metadata={"order": "A-1", "note": "é"},
    ).transaction
    with pytest.raises(InsufficientFunds):
        transfer_create(
            initiator=user,
            from_account_id=str(sender.id),
            to_account_id=str(receiver.id),
            amount=Decimal("1000"),
            idempotency_key="refused",
        )
    batch_create(
        initiator=user,
        items=[
            BatchItem(from_account_id=str(sender.id), to_account_id=str(receiver.id), amount=a)
            for a in (Decimal("2"), Decimal("0.01"))
        ],
        idempotency_key="batch",
    )
    transaction_reverse(
        initiator=system_user, transaction_id=str(transfer.id), idempotency_key="r", reason="x"
    )
    hold = hold_create(
        initiator=user,
        from_account_id=str(sender.id),
        to_account_id=str(receiver.id),
        amount=Decimal("3"),
        idempotency_key="h",
    ).hold
    hold_capture(initiator=user, hold_id=str(hold.id), idempotency_key="c", amount=Decimal("1"))
    return list(Transaction.objects.all())


@pytest.mark.django_db
def test_the_written_out_rendering_is_drf_s_generic_one(every_kind):
    kinds = {(tx.kind, tx.status, tx.batch_id is not None) for tx in every_kind}
    assert kinds >= {
        ("INITIAL_FUNDS", "COMPLETED", False),
        ("TRANSFER", "REVERSED", False),
        ("TRANSFER", "FAILED", False),
        ("TRANSFER", "COMPLETED", True),
        ("REVERSAL", "COMPLETED", False),
        ("CAPTURE", "COMPLETED", False),
    }
    for tx in every_kind:
        generic = serializers.Serializer.to_representation(TRANSACTION_OUTPUT, tx)
        assert TRANSACTION_OUTPUT.to_representation(tx) == generic
        assert list(TRANSACTION_OUTPUT.to_representation(tx)) == list(generic)

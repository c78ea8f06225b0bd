"""Real threads on the real database: holds never reserve more than is available, whatever
races them; a hold is captured or voided at most once; a capture racing the expiry moves money
only for a hold that had not expired."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Account
from ledger.models import Hold
from ledger.selectors import account_held, ledger_verify
from tests.conftest import client_for
from tests.holds.helpers import hold
from tests.transactions.helpers import post_in_parallel
from transactions.hold_services import holds_expire_due
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def _hold_body(payer, payee, key, amount="10"):
    return {
        "fromAccount": str(payer.id),
        "toAccount": str(payee.id),
        "amount": amount,
        "idempotencyKey": key,
    }


def test_twenty_holds_of_ten_on_a_hundred_make_exactly_ten(parties):
    payer, payee = parties
    client = client_for(payer.user)
    codes = post_in_parallel(
        [(client, "/api/holds", _hold_body(payer, payee, f"h{i}")) for i in range(20)]
    )
    assert Counter(codes) == {201: 10, 400: 10}
    assert Hold.objects.filter(status="PENDING").count() == 10
    assert Hold.objects.filter(status="FAILED", failure_code="insufficient_funds").count() == 10
    assert account_held(account=payer) == 10000


def test_holds_racing_transfers_never_overdraw(parties):
    payer, payee = parties
    client = client_for(payer.user)
    calls = []
    for i in range(10):
        calls.append((client, "/api/holds", _hold_body(payer, payee, f"h{i}", "15")))
        calls.append((client, "/api/transactions", _hold_body(payer, payee, f"t{i}", "15")))
    codes = post_in_parallel(calls)
    # 6 x 15 <= 100 < 7 x 15; every other one a clean refusal, recorded (not the database
    # trigger's last word, which would be a 500)
    assert Counter(codes) == {201: 6, 400: 14}, codes
    refused = Transaction.objects.filter(failure_code="insufficient_funds").count()
    assert refused + Hold.objects.filter(failure_code="insufficient_funds").count() == 14
    account = Account.objects.get(id=payer.id)
    assert account.balance - account_held(account=account) >= 0
    assert ledger_verify().ok


def test_ten_concurrent_captures_of_one_hold_capture_once(parties, system_user):
    payer, payee = parties
    pending = hold(payer, payee, "40")
    url = f"/api/holds/{pending.id}/capture"
    clients = [client_for(payee.user), client_for(payer.user), client_for(system_user)]
    calls = [(clients[i % 3], url, {"idempotencyKey": f"c{i}"}) for i in range(10)]
    codes = post_in_parallel(calls)
    assert Counter(codes) == {201: 1, 400: 9}
    assert Transaction.objects.filter(hold=pending, status="COMPLETED").count() == 1
    assert Account.objects.get(id=payee.id).balance == 4000
    assert Account.objects.get(id=payer.id).balance == 6000
    assert Hold.objects.get(id=pending.id).status == "CAPTURED"
    assert ledger_verify().ok


def test_a_capture_racing_a_void_lets_exactly_one_win(parties):
    payer, payee = parties
    for round_ in range(5):
        pending = hold(payer, payee, "10")
        client = client_for(payee.user)
        codes = post_in_parallel(
            [
                (client, f"/api/holds/{pending.id}/capture", {"idempotencyKey": f"c{round_}"}),
                (client, f"/api/holds/{pending.id}/void", {"idempotencyKey": f"v{round_}"}),
            ]
        )
        final = Hold.objects.get(id=pending.id).status
        assert sorted(codes) in ([200, 400], [201, 400]), codes
        assert final == ("CAPTURED" if 201 in codes else "VOIDED")
        captured = Transaction.objects.filter(hold=pending, status="COMPLETED").count()
        assert captured == (1 if final == "CAPTURED" else 0)
    assert ledger_verify().ok


def test_a_capture_racing_expiry_at_the_boundary_is_captured_or_expired_never_both(parties):
    """The hold expires while captures and the expiry command race for it: whichever wins, a
    hold ends either CAPTURED with its one transaction, or EXPIRED with no money moved."""
    payer, payee = parties
    holds = [hold(payer, payee, "5", expires_in=1) for _ in range(6)]
    boundary = max(h.expires_at for h in holds)
    client = client_for(payee.user)
    barrier = threading.Barrier(len(holds) + 1)

    def capture(pending):
        try:
            barrier.wait()
            return client.post(
                f"/api/holds/{pending.id}/capture",
                {"idempotencyKey": f"c{pending.id}"},
                format="json",
            ).status_code
        finally:
            connection.close()

    def expire():
        try:
            barrier.wait()
            while timezone.now() <= boundary + timedelta(milliseconds=50):
                holds_expire_due()
            return holds_expire_due()
        finally:
            connection.close()

    # Wait until the boundary is close so some captures land on either side of it.
    while timezone.now() < boundary - timedelta(milliseconds=30):
        threading.Event().wait(0.005)
    with ThreadPoolExecutor(max_workers=len(holds) + 1) as pool:
        futures = [pool.submit(capture, h) for h in holds] + [pool.submit(expire)]
        codes = [f.result() for f in futures[:-1]]
        futures[-1].result()
    for pending, code in zip(holds, codes, strict=True):
        row = Hold.objects.get(id=pending.id)
        moved = Transaction.objects.filter(hold=pending, status="COMPLETED").count()
        if row.status == "CAPTURED":
            assert code == 201 and moved == 1
        else:
            assert row.status == "EXPIRED" and code == 400 and moved == 0
    captured = Hold.objects.filter(status="CAPTURED").count()
    assert Account.objects.get(id=payee.id).balance == captured * 500
    assert ledger_verify().ok

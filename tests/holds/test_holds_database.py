"""The database itself holds the rules, even against raw SQL: no hold or balance change beyond
what is available (balance - held + overdraft), a hold changes only while PENDING (captured or
voided at most once), never in its terms, and is never deleted; one capture per hold."""

import uuid

import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from accounts.models import Account
from ledger.exceptions import InsufficientFunds
from ledger.models import Hold
from tests.holds.helpers import expired_hold, hold
from tests.transactions.helpers import transfer
from transactions.hold_services import hold_capture, hold_void_by
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)
REFUSED = (IntegrityError, InternalError)


def _sql(statement, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def _db(value):
    return Account._meta.pk.get_db_prep_value(value, connection)


def test_a_balance_below_available_is_refused_by_raw_sql(parties):
    payer, payee = parties
    hold(payer, payee, "60")
    with pytest.raises(REFUSED):
        _sql("UPDATE accounts_account SET balance = 5000 WHERE id = %s", [_db(payer.id)])
    assert Account.objects.get(id=payer.id).balance == 10000
    Account.objects.filter(id=payer.id).update(overdraft_limit=1000)
    _sql("UPDATE accounts_account SET balance = 5000 WHERE id = %s", [_db(payer.id)])
    with pytest.raises(REFUSED):
        _sql("UPDATE accounts_account SET balance = 4999 WHERE id = %s", [_db(payer.id)])


def test_a_hold_beyond_available_is_refused_by_raw_sql(parties):
    payer, payee = parties
    existing = hold(payer, payee, "60")
    with pytest.raises(REFUSED):
        _sql(
            "INSERT INTO ledger_hold (id, from_account_id, to_account_id, amount, currency,"
            " status, expires_at, expires_in, initiator_id, idempotency_key, fingerprint,"
            " failure_code, failure_message, metadata, created_at, updated_at)"
            " SELECT %s, from_account_id, to_account_id, 4001, currency, 'PENDING', expires_at,"
            " expires_in, initiator_id, 'raw', 'x', '', '', metadata, created_at, updated_at"
            " FROM ledger_hold WHERE id = %s",
            [_db(uuid.uuid4()), _db(existing.id)],
        )
    assert Hold.objects.count() == 1


def test_a_second_capture_of_a_hold_is_refused(parties):
    payer, payee = parties
    pending = hold(payer, payee, "30")
    hold_capture(initiator=payee.user, hold_id=str(pending.id), idempotency_key="c")
    capture = pending.captures.get()
    # A copy of the capture under another key: a second CAPTURE of the same hold.
    columns = [field.column for field in Transaction._meta.concrete_fields]
    copied = [{"id": "%s", "idempotency_key": "'second'"}.get(column, column) for column in columns]
    with pytest.raises(REFUSED, match=r"one_capture_per_hold|transactions_transaction\.hold_id"):
        _sql(
            f"INSERT INTO transactions_transaction ({', '.join(columns)})"
            f" SELECT {', '.join(copied)} FROM transactions_transaction WHERE id = %s",
            [_db(uuid.uuid4()), _db(capture.id)],
        )
    assert Transaction.objects.filter(hold=pending).count() == 1


def test_a_hold_that_is_no_longer_pending_never_changes_and_no_hold_is_deleted(parties):
    payer, payee = parties
    voided = hold(payer, payee, "30")
    hold_void_by(initiator=payee.user, hold_id=str(voided.id), idempotency_key="v")
    with pytest.raises(REFUSED, match="no longer PENDING"):
        _sql(
            "UPDATE ledger_hold SET status = 'PENDING', voided_by_id = NULL,"
            " void_idempotency_key = NULL WHERE id = %s",
            [_db(voided.id)],
        )
    pending = hold(payer, payee, "10")
    with pytest.raises(REFUSED, match="holds are kept"):
        _sql("DELETE FROM ledger_hold WHERE id = %s", [_db(pending.id)])
    assert list(Hold.objects.values_list("status", flat=True).order_by("amount")) == [
        "PENDING",
        "VOIDED",
    ]


def test_terms_of_a_pending_hold_cannot_change_and_captured_needs_its_transaction(parties):
    payer, payee = parties
    pending = hold(payer, payee, "30")
    with pytest.raises(REFUSED):
        _sql("UPDATE ledger_hold SET amount = 1 WHERE id = %s", [_db(pending.id)])
    with pytest.raises(REFUSED):
        _sql("UPDATE ledger_hold SET status = 'CAPTURED' WHERE id = %s", [_db(pending.id)])
    with pytest.raises(REFUSED):
        _sql("UPDATE ledger_hold SET status = 'EXPIRED' WHERE id = %s", [_db(pending.id)])
    assert Hold.objects.get(id=pending.id).status == "PENDING"


def test_verify_ledger_finds_a_capture_that_does_not_match_its_hold(parties):
    from ledger.selectors import ledger_verify

    payer, payee = parties
    pending = hold(payer, payee, "30")
    hold_capture(initiator=payee.user, hold_id=str(pending.id), idempotency_key="c")
    assert ledger_verify().ok
    from ledger import triggers

    # A superuser's tamper, around the triggers.
    rules = [
        r for r in triggers.EVERY if r.name in ("holds_final", "holds_captured_by_its_capture")
    ]
    for rule in rules:
        rule.uninstall(connection)
    try:
        _sql("UPDATE ledger_hold SET captured_amount = 1 WHERE id = %s", [_db(pending.id)])
    finally:
        for rule in rules:
            rule.install(connection)
    report = ledger_verify()
    assert not report.ok and f"hold {pending.id}" in report.hold_problems[0]


def test_a_hold_is_captured_only_by_its_own_capture(parties):
    payer, payee = parties
    pending = hold(payer, payee, "30")
    other = transfer(payer, payee, "1")
    with pytest.raises(REFUSED):
        _sql(
            "UPDATE ledger_hold SET status = 'CAPTURED', transaction_id = %s,"
            " captured_amount = 100 WHERE id = %s",
            [_db(other.id), _db(pending.id)],
        )
    assert Hold.objects.get(id=pending.id).status == "PENDING"


def _marked(account) -> bool:
    return Account.objects.values_list("has_holds", flat=True).get(id=account.id)


def test_the_database_marks_a_payer_at_its_first_hold_and_never_unmarks_it(parties):
    payer, payee = parties
    assert not _marked(payer)
    with pytest.raises(InsufficientFunds):
        hold(payer, payee, "1000")  # a refused hold (FAILED) holds nothing: no mark
    assert not _marked(payer)
    pending = hold(payer, payee, "30")  # the engine never writes the mark: the trigger does
    assert _marked(payer) and not _marked(payee)
    hold_capture(initiator=payee.user, hold_id=str(pending.id), idempotency_key="c")
    assert _marked(payer)
    with pytest.raises(REFUSED):
        _sql("UPDATE accounts_account SET has_holds = FALSE WHERE id = %s", [_db(payer.id)])
    assert _marked(payer)


def test_a_payer_without_holds_costs_no_holds_query_and_a_marked_one_does(parties):
    from django.test.utils import CaptureQueriesContext

    payer, payee = parties

    def holds_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            transfer(payer, payee, "1")
        return sum("ledger_hold" in query["sql"] for query in queries.captured_queries)

    assert holds_queries() == 0
    hold(payer, payee, "90")
    assert holds_queries() == 1
    with pytest.raises(InsufficientFunds):
        transfer(payer, payee, "9")  # 100 - 1 - 1 - 90 = 8 available


def test_verify_ledger_finds_a_hold_whose_payer_is_not_marked(parties):
    from ledger import triggers
    from ledger.selectors import ledger_verify

    payer, payee = parties
    pending = hold(payer, payee, "30")
    assert ledger_verify().ok
    triggers.HAS_HOLDS_KEPT.uninstall(connection)  # a superuser's tamper, around the trigger
    try:
        _sql("UPDATE accounts_account SET has_holds = FALSE WHERE id = %s", [_db(payer.id)])
    finally:
        triggers.HAS_HOLDS_KEPT.install(connection)
    report = ledger_verify()
    assert not report.ok
    assert f"hold {pending.id} from account {payer.id}" in report.hold_problems[0]


def test_a_hold_is_written_pending_or_failed_and_a_pending_one_never_fails(parties):
    payer, payee = parties
    pending = hold(payer, payee, "30")
    with pytest.raises(REFUSED, match="never FAILED"):
        _sql(
            "UPDATE ledger_hold SET status = 'FAILED', failure_code = 'insufficient_funds'"
            " WHERE id = %s",
            [_db(pending.id)],
        )
    with pytest.raises(REFUSED, match="terms of a hold are immutable"):
        _sql("UPDATE ledger_hold SET fingerprint = 'other' WHERE id = %s", [_db(pending.id)])
    with pytest.raises(REFUSED, match="written PENDING"):
        _copy_of(pending, status="EXPIRED")
    assert Hold.objects.get(id=pending.id).status == "PENDING"


def test_a_hold_is_made_by_its_payer_s_owner_between_active_accounts_of_its_currency(
    parties, make_user, make_account
):
    payer, payee = parties
    pending = hold(payer, payee, "30")
    stranger = make_user()
    made_by = "made by the owner of its payer"
    with pytest.raises(REFUSED, match=made_by):
        _copy_of(pending, initiator_id=_db(stranger.id))
    with pytest.raises(REFUSED, match=made_by):
        _copy_of(pending, currency="'USD'")
    Account.objects.filter(id=payee.id).update(status="FROZEN")
    with pytest.raises(REFUSED, match=made_by):
        _copy_of(pending)
    Account.objects.filter(id=payee.id).update(status="ACTIVE")
    _copy_of(pending)  # the same hold again, as its owner would make it: accepted
    assert Hold.objects.count() == 2


def test_a_hold_is_voided_only_before_its_expiry_by_its_payee_or_a_system_user(parties):
    payer, payee = parties
    pending = hold(payer, payee, "30")
    void = "UPDATE ledger_hold SET status = 'VOIDED', voided_by_id = %s,"
    void += " void_idempotency_key = 'v' WHERE id = %s"
    with pytest.raises(REFUSED, match="voided by the owner of its payee"):
        _sql(void, [_db(payer.user.id), _db(pending.id)])  # the payer may not take it back
    lapsed = expired_hold(payer, payee, 100)
    with pytest.raises(REFUSED, match="only before its expiry"):
        _sql(void, [_db(payee.user.id), _db(lapsed.id)])
    _sql(void, [_db(payee.user.id), _db(pending.id)])
    assert Hold.objects.get(id=pending.id).status == "VOIDED"


def test_an_account_s_funding_role_never_changes(parties):
    payer, _payee = parties
    with pytest.raises(REFUSED, match="funding role"):
        _sql("UPDATE accounts_account SET is_funding = TRUE WHERE id = %s", [_db(payer.id)])
    assert not Account.objects.get(id=payer.id).is_funding


def test_verify_ledger_finds_a_transaction_whose_legs_do_not_move_it(parties):
    from ledger.selectors import ledger_verify

    payer, payee = parties
    moved = transfer(payer, payee, "5")
    assert ledger_verify().ok
    # A transaction row written without its legs: a capture like it would release a hold and
    # pay nobody, with every balance still adding up.
    _sql("UPDATE transactions_transaction SET amount = amount + 1 WHERE id = %s", [_db(moved.id)])
    report = ledger_verify()
    assert not report.ok
    assert any(
        f"transaction {moved.id} (COMPLETED): 2 legs" in p for p in report.unbalanced_transactions
    )


def _copy_of(pending, **columns):
    """INSERT a copy of `pending` under a new id and key, with `columns` (SQL) overridden."""
    values = {
        "id": "%s",
        "from_account_id": "from_account_id",
        "to_account_id": "to_account_id",
        "amount": "amount",
        "currency": "currency",
        "status": "status",
        "expires_at": "expires_at",
        "expires_in": "expires_in",
        "initiator_id": "initiator_id",
        "idempotency_key": "idempotency_key || '-copy'",
        "fingerprint": "fingerprint",
        "failure_code": "failure_code",
        "failure_message": "failure_message",
        "metadata": "metadata",
        "created_at": "created_at",
        "updated_at": "updated_at",
    }
    params = [_db(uuid.uuid4())]
    for column, value in columns.items():
        if isinstance(value, str) and value.startswith("'"):
            values[column] = value
        else:
            values[column], params = "%s", [*params, value]
    # The overridden values follow the id in column order.
    ordered = [values[c] for c in values]
    _sql(
        f"INSERT INTO ledger_hold ({', '.join(values)}) SELECT {', '.join(ordered)}"
        " FROM ledger_hold WHERE id = %s",
        [*params, _db(pending.id)],
    )


def _copy_hold(existing, *, expires_in: int, key: str):
    """A FAILED copy of `existing` lasting `expires_in` seconds, written around the service."""
    _sql(
        "INSERT INTO ledger_hold (id, from_account_id, to_account_id, amount, currency,"
        " status, expires_at, expires_in, initiator_id, idempotency_key, fingerprint,"
        " failure_code, failure_message, metadata, created_at, updated_at)"
        " SELECT %s, from_account_id, to_account_id, amount, currency, 'FAILED', expires_at,"
        " %s, initiator_id, %s, 'x', 'insufficient_funds', 'x', metadata, created_at,"
        " updated_at FROM ledger_hold WHERE id = %s",
        [_db(uuid.uuid4()), expires_in, key, _db(existing.id)],
    )


@pytest.mark.parametrize("expires_in", [0, 2_592_001])
def test_a_hold_outside_the_apis_span_is_refused_by_raw_sql(parties, expires_in):
    payer, payee = parties
    existing = hold(payer, payee, "30")
    with pytest.raises(REFUSED, match="expires 1 to 2592000 seconds"):
        _copy_hold(existing, expires_in=expires_in, key="raw")
    _copy_hold(existing, expires_in=1, key="shortest")
    _copy_hold(existing, expires_in=2_592_000, key="longest")
    assert sorted(Hold.objects.values_list("expires_in", flat=True)) == [1, 3600, 2_592_000]


def test_verify_ledger_finds_a_hold_outside_the_apis_span(parties):
    from ledger import triggers
    from ledger.selectors import ledger_verify

    payer, payee = parties
    pending = hold(payer, payee, "30")
    assert ledger_verify().ok
    (terms,) = [r for r in triggers.EVERY if r.name == "holds_terms_immutable"]
    terms.uninstall(connection)  # a superuser's tamper, around the trigger
    try:
        _sql("UPDATE ledger_hold SET expires_in = 2592001 WHERE id = %s", [_db(pending.id)])
    finally:
        terms.install(connection)
    report = ledger_verify()
    assert not report.ok
    assert any(
        f"hold {pending.id}: expires_in outside 1-2592000" in problem
        for problem in report.hold_problems
    )

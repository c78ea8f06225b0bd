"""`verify_ledger` rebuilds every leaf of the public log from the ledger tables and the latest
checkpoint's root: a ledger rewritten around the immutability triggers, with its balances made
consistent again, still fails, naming the first transaction that no longer matches what was
signed; and the standalone verifier rejects the rewritten history against the old checkpoint."""

import base64
import json
import subprocess
import sys
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ledger import triggers
from ledger.log import merkle
from ledger.log.posted import posted_get
from ledger.log.receipts import receipt_payload
from ledger.log.selectors import log_inclusion
from ledger.log.services import log_append, log_checkpoint_create
from ledger.log.signing import signing_key
from ledger.models import LedgerEntry
from ledger.selectors import ledger_verify
from tests.ledger.log_helpers import VERIFY_PY


@pytest.fixture
def logged(post):
    txs = post(6)
    log_append(transaction_ids=[tx.id for tx in txs])
    log_checkpoint_create()
    return txs


def _id(value):
    return value.hex if connection.vendor == "sqlite" else value


@contextmanager
def _lifted(rules):
    """Remove these triggers for the block (what an attacker with DDL rights could do)."""
    for rule in rules:
        rule.uninstall(connection)
    try:
        yield
    finally:
        for rule in rules:
            rule.install(connection)


def _rewrite(tx, delta):
    """Make `tx` have moved `delta` minor units less, in both legs, both balance-after chains
    and both cached balances, so that every ordinary balance check still passes. Only valid
    for an account's latest transaction (no later balance-after depends on it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_ledgerentry SET amount = amount - %s,"
            " balance_after = balance_after + CASE WHEN type = 'DEBIT' THEN %s ELSE -%s END"
            " WHERE transaction_id = %s",
            [delta, delta, delta, _id(tx.id)],
        )
        for account, sign in ((tx.from_account_id, 1), (tx.to_account_id, -1)):
            cursor.execute(
                "UPDATE accounts_account SET balance = balance + %s WHERE id = %s",
                [sign * delta, _id(account)],
            )
        cursor.execute(
            "UPDATE transactions_transaction SET amount = amount - %s WHERE id = %s",
            [delta, _id(tx.id)],
        )


def test_a_sound_log_passes(logged, capsys):
    call_command("verify_ledger")
    out = capsys.readouterr().out
    assert "Checked 6 log leaves and the root of the latest checkpoint (tree size 6)." in out
    assert "Ledger OK." in out


def test_a_rewritten_transaction_is_named_though_the_balances_agree(logged, capsys):
    with _lifted(triggers.IMMUTABLE):
        _rewrite(logged[-1], 25)
    report = ledger_verify()
    assert not (
        report.balance_mismatches or report.unbalanced_transactions or report.nonzero_currencies
    )
    assert report.log_mismatches[0].startswith(f"transaction {logged[-1].id} (log index 5)")
    assert "the root rebuilt from the ledger" in report.log_mismatches[-1]
    with pytest.raises(CommandError, match="no longer matches") as raised:
        call_command("verify_ledger")
    assert raised.value.returncode == 1
    assert f"transaction {logged[-1].id}" in capsys.readouterr().out


def test_a_deleted_transaction_is_named(logged):
    with _lifted(triggers.IMMUTABLE), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM ledger_ledgerentry WHERE transaction_id = %s", [_id(logged[2].id)]
        )
    problems = ledger_verify().log_mismatches
    assert problems[0] == (
        f"transaction {logged[2].id} (log index 2): has no ledger entries any more; "
        "it no longer matches its signed receipt"
    )


def test_rewriting_the_log_rows_too_is_caught_by_the_signatures(logged):
    """The attacker also rewrites the stored leaf (payload and hash) but cannot sign it."""
    with _lifted(triggers.IMMUTABLE), _lifted(triggers.LOG):
        _rewrite(logged[-1], 25)
        payload = receipt_payload(posted_get([logged[-1].id])[logged[-1].id]).encode()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE ledger_logleaf SET payload = %s, leaf_hash = %s WHERE log_index = 5",
                [payload.decode(), merkle.leaf_hash(payload)],
            )
    problems = ledger_verify().log_mismatches
    assert problems[0].startswith(f"transaction {logged[-1].id} (log index 5)")
    assert any("the root rebuilt from the ledger" in problem for problem in problems)


def _verify(tmp_path, **documents) -> subprocess.CompletedProcess:
    args = []
    for name, document in documents.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(document))
        args += [f"--{name}", str(path)]
    return subprocess.run(
        [sys.executable, str(VERIFY_PY), "receipt", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)  # committed rows: ALTER TABLE refuses pending events
def test_tamper_as_the_superuser_on_postgresql(logged, api, tmp_path, capsys):
    # The latest movement of both accounts: rewriting its legs needs no later balance-after.
    anon, target = APIClient(), logged[-1]
    checkpoint = anon.get("/api/log/checkpoints/latest").json()
    keys = anon.get("/api/log/keys").json()
    signed = api.get(f"/api/transactions/{target.id}/receipt").json()
    proof = api.get(f"/api/transactions/{target.id}/proof").json()
    assert (
        _verify(tmp_path, receipt=signed, keys=keys, checkpoint=checkpoint, proof=proof).returncode
        == 0
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is True
        cursor.execute("ALTER TABLE ledger_ledgerentry DISABLE TRIGGER ledger_entry_no_update")
        _rewrite(target, 25)
        cursor.execute("ALTER TABLE ledger_ledgerentry ENABLE TRIGGER ledger_entry_no_update")
    assert LedgerEntry.objects.filter(transaction_id=target.id, amount=100).count() == 2

    with pytest.raises(CommandError):
        call_command("verify_ledger")
    out = capsys.readouterr().out
    assert "Balance mismatches" not in out and "Unbalanced" not in out
    assert f"transaction {target.id} (log index 5): entries changed" in out

    # A receipt and proof built from the altered data, even signed with the log's own key,
    # do not lead to the root the old checkpoint signed.
    payload = receipt_payload(posted_get([target.id])[target.id]).encode()
    key = signing_key()
    altered = {
        "payload": payload.decode(),
        "leafHash": merkle.leaf_hash(payload).hex(),
        "logIndex": 5,
        "keyId": key.key_id,
        "signature": base64.b64encode(key.sign(payload)).decode(),
    }
    stored = log_inclusion(transaction_id=target.id, tree_size=checkpoint["treeSize"])
    forged = {**proof, "leafHash": altered["leafHash"]}
    assert forged["auditPath"] == [h.hex() for h in stored.audit_path]
    result = _verify(tmp_path, receipt=altered, keys=keys, checkpoint=checkpoint, proof=forged)
    assert result.returncode == 1
    assert f"not included in checkpoint {checkpoint['treeSize']}" in result.stderr


def test_the_log_check_costs_the_same_queries_whatever_the_log_size(post):
    def queries_for(n):
        log_append(transaction_ids=[tx.id for tx in post(n)])
        log_checkpoint_create()
        with CaptureQueriesContext(connection) as captured:
            assert ledger_verify().ok
        return len(captured)

    assert queries_for(3) == queries_for(12)

"""Appending to the public log and signing checkpoints: order, idempotence, what the database
itself refuses (on PostgreSQL and SQLite alike), key recording and rotation, and that nothing of
this runs on the transfer path."""

import base64
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import DatabaseError, IntegrityError, connection, transaction

from ledger.exceptions import NotPosted
from ledger.log import merkle
from ledger.log.receipts import checkpoint_text, timestamp_text
from ledger.log.services import log_append, log_checkpoint_create, receipt_get
from ledger.log.signing import new_encoded_key
from ledger.models import Checkpoint, ImmutableError, LogKey, LogLeaf, LogNode
from tests.transactions.helpers import transfer


def _logged():
    return list(LogLeaf.objects.order_by("log_index").values_list("transaction_id", flat=True))


def test_leaves_follow_the_given_order_and_an_id_already_logged_is_skipped(post):
    a, b, c = post(3)
    log_append(transaction_ids=[b.id, a.id])
    log_append(transaction_ids=[a.id, c.id, c.id])
    assert _logged() == [b.id, a.id, c.id]


def test_the_leaf_keeps_the_signed_receipt(post):
    (tx,) = post(1)
    before = receipt_get(transaction_id=tx.id)
    assert before.log_index is None
    log_append(transaction_ids=[tx.id])
    after = receipt_get(transaction_id=tx.id)
    assert after.log_index == 0
    # Ed25519 is deterministic: the receipt signed on the fly is the one the log holds.
    assert (after.payload, after.signature, after.leaf_hash) == (
        before.payload,
        before.signature,
        before.leaf_hash,
    )
    key = LogKey.objects.get(key_id=after.key_id)
    Ed25519PublicKey.from_public_bytes(bytes(key.public_key)).verify(
        after.signature, after.payload.encode()
    )
    assert after.leaf_hash == merkle.leaf_hash(after.payload.encode())


def test_payload_is_canonical_and_complete(post, user):
    (tx,) = post(1)
    payload = receipt_get(transaction_id=tx.id).payload
    entries = list(tx.entries.order_by("id"))
    assert payload == (
        f'{{"_id":"{tx.id}","amount":125,"createdAt":"{timestamp_text(tx.created_at)}",'
        f'"currency":"INR","entries":['
        f'{{"_id":"{entries[0].id}","account":"{tx.from_account_id}","amount":125,'
        f'"balanceAfter":{entries[0].balance_after},"type":"DEBIT"}},'
        f'{{"_id":"{entries[1].id}","account":"{tx.to_account_id}","amount":125,'
        f'"balanceAfter":{entries[1].balance_after},"type":"CREDIT"}}],'
        f'"kind":"TRANSFER","version":1}}'
    )


def test_a_transaction_that_moved_nothing_is_refused(post, user, make_user, make_account):
    poor, other = make_account(user), make_account(make_user())
    with pytest.raises(Exception):  # noqa: B017 - the refusal itself is not the point here
        transfer(poor, other, "5")
    failed = poor.outgoing.get()
    with pytest.raises(NotPosted):
        log_append(transaction_ids=[failed.id])
    assert not LogLeaf.objects.exists()


def test_a_checkpoint_only_when_the_log_grew(post):
    assert log_checkpoint_create() is None
    txs = post(3)
    log_append(transaction_ids=[tx.id for tx in txs[:2]])
    first = log_checkpoint_create()
    assert first.tree_size == 2
    assert log_checkpoint_create() is None
    log_append(transaction_ids=[txs[2].id])
    assert log_checkpoint_create().tree_size == 3
    key = LogKey.objects.get(key_id=first.key_id)
    text = checkpoint_text(
        tree_size=2,
        root_hash=bytes(first.root_hash).hex(),
        timestamp=timestamp_text(Checkpoint.objects.get(tree_size=2).timestamp),
    )
    Ed25519PublicKey.from_public_bytes(bytes(key.public_key)).verify(bytes(first.signature), text)


def test_rotation_keeps_the_old_key_listed_and_its_signatures_valid(post, settings):
    txs = post(2)
    log_append(transaction_ids=[txs[0].id])
    old = log_checkpoint_create()
    settings.LEDGER_SIGNING_KEY = new_encoded_key()
    log_append(transaction_ids=[txs[1].id])
    new = log_checkpoint_create()
    assert old.key_id != new.key_id
    assert set(LogKey.objects.values_list("key_id", flat=True)) == {old.key_id, new.key_id}
    assert LogLeaf.objects.get(log_index=0).key_id == old.key_id
    assert LogLeaf.objects.get(log_index=1).key_id == new.key_id


def test_the_models_refuse_changes(post):
    (tx,) = post(1)
    log_append(transaction_ids=[tx.id])
    leaf = LogLeaf.objects.get()
    with pytest.raises(ImmutableError):
        leaf.save()
    with pytest.raises(ImmutableError):
        LogLeaf.objects.update(payload="{}")
    with pytest.raises(ImmutableError):
        Checkpoint.objects.all().delete()


def test_a_transfer_signs_nothing_and_works_without_a_usable_key(post, settings):
    settings.LEDGER_SIGNING_KEY = "not a key at all"
    (tx,) = post(1)
    assert tx.status == "COMPLETED"
    assert not LogLeaf.objects.exists() and not LogKey.objects.exists()
    # Signing would have needed the key.
    with pytest.raises(ValueError):
        receipt_get(transaction_id=tx.id)


@pytest.fixture
def logged(post):
    txs = post(4)
    log_append(transaction_ids=[tx.id for tx in txs])
    log_checkpoint_create()
    return txs


def _sql_refused(sql, params=(), match="append-only"):
    with (
        pytest.raises((DatabaseError, IntegrityError), match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_logleaf SET payload = '{}' WHERE log_index = 1",
        "DELETE FROM ledger_logleaf WHERE log_index = 3",
        "UPDATE ledger_lognode SET level = 5",
        "DELETE FROM ledger_lognode",
        "UPDATE ledger_checkpoint SET tree_size = 3",
        "DELETE FROM ledger_checkpoint",
        "UPDATE ledger_logkey SET created_at = created_at",
        "DELETE FROM ledger_logkey",
    ],
)
def test_the_database_refuses_update_and_delete(logged, sql):
    _sql_refused(sql)
    assert LogLeaf.objects.count() == 4 and LogNode.objects.count() == 3


def _leaf_insert_sql(index: int) -> str:
    return (
        "INSERT INTO ledger_logleaf"
        " (log_index, transaction_id, payload, leaf_hash, signature, key_id, appended_at)"
        f" SELECT {index}, t.id, '{{}}', l.leaf_hash, l.signature, l.key_id, l.appended_at"
        " FROM transactions_transaction t, ledger_logleaf l"
        " WHERE l.log_index = 0 AND t.id NOT IN (SELECT transaction_id FROM ledger_logleaf)"
        " AND t.status = 'COMPLETED' LIMIT 1"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("index", [0, 2, 5, 6])
def test_a_leaf_goes_only_at_the_next_position(logged, post, index):
    post(1)
    _sql_refused(_leaf_insert_sql(index), match="next position")


@pytest.mark.django_db(transaction=True)
def test_the_next_position_is_accepted_by_the_database(logged, post):
    post(1)
    with connection.cursor() as cursor:
        cursor.execute(_leaf_insert_sql(4))
    assert LogLeaf.objects.count() == 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [3, 4, 5])
def test_a_checkpoint_must_grow_and_stay_within_the_log(logged, size):
    _sql_refused(
        "INSERT INTO ledger_checkpoint (tree_size, root_hash, timestamp, key_id, signature)"
        f" SELECT {size}, root_hash, timestamp, key_id, signature FROM ledger_checkpoint",
        match="checkpoint must grow",
    )


@pytest.mark.django_db(transaction=True)
def test_a_hash_of_the_wrong_length_is_refused(logged):
    with pytest.raises(IntegrityError), transaction.atomic():
        LogNode.objects.create(level=3, position=0, hash=b"short")
    with pytest.raises(IntegrityError), transaction.atomic():
        LogKey.objects.create(key_id="0" * 16, public_key=base64.b64decode("AAAA"))


@pytest.mark.django_db(transaction=True)
def test_concurrent_appenders_give_each_transaction_one_leaf_and_no_gaps(post):
    txs = [tx.id for tx in post(12)]
    batches = [txs[:8], txs[4:], txs[::-1], txs[2:10]]
    barrier = threading.Barrier(len(batches))

    def append(batch):
        try:
            barrier.wait()
            log_append(transaction_ids=batch)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        list(pool.map(append, batches))
    logged = _logged()
    assert sorted(logged) == sorted(txs)
    assert list(LogLeaf.objects.order_by("log_index").values_list("log_index", flat=True)) == list(
        range(12)
    )
    checkpoint = log_checkpoint_create()
    leaves = [
        bytes(h) for h in LogLeaf.objects.order_by("log_index").values_list("leaf_hash", flat=True)
    ]
    assert bytes(checkpoint.root_hash) == merkle.root_of_leaves(leaves)

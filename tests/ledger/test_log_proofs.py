"""Inclusion and consistency proofs computed from stored subtree hashes agree with RFC 9162's
definitions recomputed here from the leaves, for every tree shape up to 70 leaves, and verify
with the standalone verifier's RFC 9162 algorithms."""

import pytest

from ledger.log import merkle
from ledger.log.apis import CheckpointSerializer
from ledger.log.selectors import checkpoint_get, log_consistency, log_inclusion
from ledger.log.services import log_append, log_checkpoint_create
from ledger.models import LogLeaf
from tests.ledger.log_helpers import load_verifier, mth, path, proof

verifier = load_verifier()


def _grow_one_by_one(post, n: int) -> list[bytes]:
    """Append n transactions one call each, signing a checkpoint at every size; the leaves."""
    for tx in post(n):
        log_append(transaction_ids=[tx.id])
        assert log_checkpoint_create() is not None
    return [
        row.encode()
        for row in LogLeaf.objects.order_by("log_index").values_list("payload", flat=True)
    ]


def test_inclusion_proofs_for_first_middle_and_last_leaf_of_every_size_to_70(post):
    leaves = _grow_one_by_one(post, 70)
    transactions = list(
        LogLeaf.objects.order_by("log_index").values_list("transaction_id", flat=True)
    )
    for size in range(1, 71):
        root = mth(leaves[:size])
        assert bytes(checkpoint_get(tree_size=size).root_hash) == root
        for index in sorted({0, size // 2, size - 1}):
            got = log_inclusion(transaction_id=transactions[index], tree_size=size)
            assert (got.log_index, got.tree_size) == (index, size)
            assert got.audit_path == path(index, leaves[:size]), (index, size)
            assert got.leaf_hash == merkle.leaf_hash(leaves[index])
            reached = verifier.root_from_inclusion(index, size, got.leaf_hash, got.audit_path)
            assert reached == root


def test_consistency_between_every_pair_of_sizes_to_20(post):
    leaves = _grow_one_by_one(post, 20)
    for new in range(1, 21):
        for old in range(1, new + 1):
            got = log_consistency(old=old, new=new)
            assert got == proof(old, leaves[:new]), (old, new)
            old_root, new_root = mth(leaves[:old]), mth(leaves[:new])
            assert verifier.roots_from_consistency(old, new, old_root, got) == (old_root, new_root)


def test_a_wrong_proof_does_not_verify(post):
    leaves = _grow_one_by_one(post, 7)
    got = log_consistency(old=3, new=7)
    flipped = [got[0][:-1] + bytes([got[0][-1] ^ 1]), *got[1:]]
    assert verifier.roots_from_consistency(3, 7, mth(leaves[:3]), flipped) != (
        mth(leaves[:3]),
        mth(leaves[:7]),
    )


def test_old_checkpoints_are_unchanged_after_more_leaves(post):
    _grow_one_by_one(post, 5)
    before = {size: CheckpointSerializer(checkpoint_get(tree_size=size)).data for size in (1, 5)}
    leaves = _grow_one_by_one(post, 12)
    for size, rendered in before.items():
        assert CheckpointSerializer(checkpoint_get(tree_size=size)).data == rendered
        assert rendered["rootHash"] == mth(leaves[:size]).hex()


def test_a_batch_append_stores_the_same_tree_as_one_by_one(post):
    txs = post(13)
    log_append(transaction_ids=[tx.id for tx in txs[:6]])
    log_append(transaction_ids=[tx.id for tx in txs[6:]])
    log_checkpoint_create()
    leaves = [
        row.encode()
        for row in LogLeaf.objects.order_by("log_index").values_list("payload", flat=True)
    ]
    assert bytes(checkpoint_get(tree_size=13).root_hash) == mth(leaves)


@pytest.mark.parametrize("size", [1, 2, 3, 64, 65, 1000, 2**20 + 3])
def test_a_proof_reads_about_log2_n_stored_hashes(size):
    def compute(get):
        return merkle.inclusion_proof(size // 2, size, get), merkle.root_hash(size, get)

    assert len(merkle.nodes_needed(compute)) <= 2 * max(size.bit_length(), 1)

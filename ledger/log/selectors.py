"""Reads over the public log: checkpoints, keys, and proofs computed from stored subtree hashes.

Cost of a proof: the nodes it needs are listed by a dry run (`merkle.nodes_needed`), at most
about 2*log2(n) hashes, then fetched in two indexed queries (leaf hashes, subtree hashes); no
proof reads or rehashes the log as a whole."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from ledger.exceptions import CheckpointNotFound, InvalidTreeSize, NotInLog
from ledger.log import merkle
from ledger.models import Checkpoint, LogKey, LogLeaf, LogNode


@dataclass(frozen=True)
class InclusionProof:
    log_index: int
    tree_size: int
    leaf_hash: bytes
    audit_path: list[bytes]


def log_size() -> int:
    """How many leaves the log holds (positions have no gaps: a trigger sees to it)."""
    last = LogLeaf.objects.order_by("-log_index").values_list("log_index", flat=True).first()
    return 0 if last is None else last + 1


def stored_hashes(wanted: set[merkle.Node]) -> dict[merkle.Node, bytes]:
    """The stored hashes of these (level, position) nodes: leaf hashes at level 0."""
    found: dict[merkle.Node, bytes] = {}
    leaves = [position for level, position in wanted if level == 0]
    if leaves:
        rows = LogLeaf.objects.filter(log_index__in=leaves).values_list("log_index", "leaf_hash")
        found |= {(0, index): bytes(digest) for index, digest in rows}
    nodes = [node for node in wanted if node[0] > 0]
    if nodes:
        match = Q()
        for level, position in nodes:
            match |= Q(level=level, position=position)
        rows = LogNode.objects.filter(match).values_list("level", "position", "hash")
        found |= {(level, position): bytes(digest) for level, position, digest in rows}
    return found


def from_stored_nodes(compute: Callable[[merkle.NodeGetter], object]):
    """Run a `merkle` computation over the stored hashes it needs, fetched at once."""
    hashes = stored_hashes(merkle.nodes_needed(compute))
    return compute(lambda level, position: hashes[(level, position)])


def checkpoint_latest() -> Checkpoint:
    latest = Checkpoint.objects.select_related("key").order_by("-tree_size").first()
    if latest is None:
        raise CheckpointNotFound("No checkpoint has been signed yet.")
    return latest


def checkpoint_get(*, tree_size: int) -> Checkpoint:
    found = Checkpoint.objects.select_related("key").filter(tree_size=tree_size).first()
    if found is None:
        raise CheckpointNotFound()
    return found


def log_keys() -> QuerySet[LogKey]:
    return LogKey.objects.order_by("created_at", "key_id")


def _published_size() -> int:
    """Proofs are given up to the latest signed checkpoint: a root nobody signed proves nothing."""
    latest = Checkpoint.objects.order_by("-tree_size").values_list("tree_size", flat=True).first()
    return latest or 0


def log_consistency(*, old: int, new: int) -> list[bytes]:
    """An RFC 9162 consistency proof between two sizes (1 <= old <= new <= latest checkpoint)."""
    if old > new:
        raise InvalidTreeSize("`from` must not be larger than `to`.")
    if old < 1 or new > _published_size():
        raise InvalidTreeSize("Sizes must be between 1 and the latest checkpoint's treeSize.")
    return from_stored_nodes(lambda get: merkle.consistency_proof(old, new, get))


def log_inclusion(*, transaction_id: uuid.UUID, tree_size: int | None = None) -> InclusionProof:
    """The audit path of the transaction's leaf in the tree of `tree_size` leaves (default: the
    latest checkpoint's size)."""
    leaf = LogLeaf.objects.filter(transaction_id=transaction_id).only("leaf_hash").first()
    published = _published_size()
    if tree_size is None:
        if leaf is None or leaf.log_index >= published:
            raise NotInLog()
        tree_size = published
    elif leaf is None:
        raise NotInLog()
    elif not leaf.log_index < tree_size <= published:
        raise InvalidTreeSize(
            f"treeSize must be above the leaf's logIndex ({leaf.log_index}) and at most the "
            f"latest checkpoint's treeSize ({published})."
        )
    path = from_stored_nodes(lambda get: merkle.inclusion_proof(leaf.log_index, tree_size, get))
    return InclusionProof(leaf.log_index, tree_size, bytes(leaf.leaf_hash), path)

"""RFC 9162 (Certificate Transparency 2.0) Merkle trees, section 2.1, computed from stored
subtree hashes.

The tree over leaves D[0:n] splits at k, the largest power of two below n, so every subtree that
is not on the right edge is *perfect* (2**level leaves starting at a multiple of 2**level) and is
stored once, when its last leaf is appended, under (level, position = start >> level); level 0
is the leaf hashes. A subtree on the right edge of a tree of size n is the fold of the perfect
subtrees that make up n's binary form, so any hash a proof needs costs at most about log2(n)
stored hashes, never a pass over the log.

Hand-written rather than taken from a library: the Python Merkle libraries on PyPI build the
tree in memory from all the leaves, which is exactly the per-request cost this avoids."""

import hashlib
from collections.abc import Callable, Iterable

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

# (level, position) -> the hash of the perfect subtree over leaves
# [position * 2**level, (position + 1) * 2**level).
NodeGetter = Callable[[int, int], bytes]
Node = tuple[int, int]


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly smaller than `size` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def subtree_hash(start: int, end: int, get: NodeGetter) -> bytes:
    """MTH(D[start:end]) for a subtree of an RFC 9162 tree (start is aligned to its size)."""
    size = end - start
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return get(level, start >> level)
    k = _split(size)
    return node_hash(subtree_hash(start, start + k, get), subtree_hash(start + k, end, get))


def root_hash(size: int, get: NodeGetter) -> bytes:
    return subtree_hash(0, size, get) if size else EMPTY_ROOT


def inclusion_proof(index: int, size: int, get: NodeGetter) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, from the leaf's sibling upwards."""
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree_hash(start + k, end, get))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k, get))
            start += k
    path.reverse()
    return path


def consistency_proof(old: int, new: int, get: NodeGetter) -> list[bytes]:
    """PROOF(old, D[0:new]) of RFC 9162 section 2.1.4.1 (0 < old <= new)."""

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        if m == end - start:
            return [] if whole else [subtree_hash(start, end, get)]
        k = _split(end - start)
        if m <= k:
            return [*subproof(m, start, start + k, whole), subtree_hash(start + k, end, get)]
        return [*subproof(m - k, start + k, end, False), subtree_hash(start, start + k, get)]

    return subproof(old, 0, new, True)


def nodes_needed(compute: Callable[[NodeGetter], object]) -> set[Node]:
    """The stored hashes `compute` reads. Which nodes a proof visits depends only on the sizes
    and indexes, never on hash values, so a dry run with placeholder hashes lists them and the
    caller fetches them all in one query."""
    wanted: set[Node] = set()

    def record(level: int, position: int) -> bytes:
        wanted.add((level, position))
        return EMPTY_ROOT

    compute(record)
    return wanted


class Frontier:
    """The perfect subtrees that make up a tree of `size` leaves, largest first: all that is
    needed to append a leaf (and learn which perfect subtrees it completes) or get the root."""

    def __init__(self, size: int = 0, nodes: list[bytes] | None = None):
        self.size = size
        self.nodes: list[tuple[int, int, bytes]] = []
        for (level, position), digest in zip(frontier_nodes(size), nodes or [], strict=True):
            self.nodes.append((level, position, digest))

    def append(self, digest: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return the perfect subtrees of level >= 1 it completes."""
        completed = []
        self.nodes.append((0, self.size, digest))
        self.size += 1
        while len(self.nodes) > 1 and self.nodes[-1][0] == self.nodes[-2][0]:
            right = self.nodes.pop()
            left = self.nodes.pop()
            merged = (left[0] + 1, left[1] >> 1, node_hash(left[2], right[2]))
            self.nodes.append(merged)
            completed.append(merged)
        return completed

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        digest = self.nodes[-1][2]
        for _, _, left in reversed(self.nodes[:-1]):
            digest = node_hash(left, digest)
        return digest


def frontier_nodes(size: int) -> list[Node]:
    """(level, position) of the perfect subtrees making up `size` leaves, largest first."""
    nodes, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def root_of_leaves(leaf_hashes: Iterable[bytes]) -> bytes:
    """The root over leaf hashes streamed in order, in O(log n) memory."""
    frontier = Frontier()
    for digest in leaf_hashes:
        frontier.append(digest)
    return frontier.root()

"""The public log's part of `verify_ledger`: rebuild every leaf from the ledger tables, compare
it with what was signed, and recompute the latest checkpoint's root.

One pass over the entries in log order (two rows per leaf, streamed in chunks), hashing each
rebuilt receipt and folding it into an O(log n) frontier: linear in the ledger, constant in
memory. Receipt signatures are checked (about 0.1 ms each) only when the root disagrees but no
stored leaf hash does, that is when the log's own rows were rewritten too."""

from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.log import merkle
from ledger.log.posted import posted_from, posted_rows
from ledger.log.receipts import checkpoint_text, receipt_payload, timestamp_text
from ledger.log.selectors import from_stored_nodes, log_size
from ledger.models import Checkpoint, LedgerEntry, LogKey, LogLeaf


@dataclass
class LogReport:
    leaves: int = 0
    checkpoint_size: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class _Leaf:
    index: int
    transaction_id: object
    stored_hash: bytes
    signature: bytes
    key_id: str
    payload: bytes | None  # rebuilt from the ledger; None when its entries are gone


_LEAF = "transaction__log_leaf__"
_LEAF_FIELDS = ("log_index", "leaf_hash", "signature", "key_id")


def _rebuilt_leaves(size: int) -> Iterator[_Leaf]:
    entries = LedgerEntry.objects.filter(transaction__log_leaf__isnull=False).order_by(
        "transaction__log_leaf__log_index", "id"
    )
    rows = posted_rows(entries, *(_LEAF + name for name in _LEAF_FIELDS))
    expected = 0
    for (index, *stored), posted in posted_from(rows.iterator(chunk_size=2000), extra=4):
        yield from _leaves_without_entries(expected, index)
        payload = receipt_payload(posted).encode()
        yield _leaf(index, posted.transaction_id, *stored, payload)
        expected = index + 1
    yield from _leaves_without_entries(expected, size)


def _leaves_without_entries(start: int, end: int) -> Iterator[_Leaf]:
    if start >= end:
        return
    rows = LogLeaf.objects.filter(log_index__gte=start, log_index__lt=end).order_by("log_index")
    for index, tx_id, *stored in rows.values_list("log_index", "transaction_id", *_LEAF_FIELDS[1:]):
        yield _leaf(index, tx_id, *stored, None)


def _leaf(index, transaction_id, stored_hash, signature, key_id, payload) -> _Leaf:
    return _Leaf(index, transaction_id, bytes(stored_hash), bytes(signature), key_id, payload)


def _describe(leaf: _Leaf) -> str:
    what = "has no ledger entries any more" if leaf.payload is None else "entries changed"
    return (
        f"transaction {leaf.transaction_id} (log index {leaf.index}): {what}; "
        "it no longer matches its signed receipt"
    )


def _verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(bytes(signature), message)
    except InvalidSignature:
        return False
    return True


def _checkpoint_problems(checkpoint: Checkpoint, rebuilt_root: bytes) -> list[str]:
    problems = []
    root = bytes(checkpoint.root_hash)
    text = checkpoint_text(
        tree_size=checkpoint.tree_size,
        root_hash=root.hex(),
        timestamp=timestamp_text(checkpoint.timestamp),
    )
    if not _verify(checkpoint.key.public_key, checkpoint.signature, text):
        problems.append(f"checkpoint {checkpoint.tree_size}: the signature does not verify")
    if rebuilt_root != root:
        problems.append(
            f"checkpoint {checkpoint.tree_size}: the root rebuilt from the ledger is "
            f"{rebuilt_root.hex()}, the signed root is {root.hex()}"
        )
    stored = from_stored_nodes(lambda get: merkle.root_hash(checkpoint.tree_size, get))
    if stored != root:
        problems.append(f"checkpoint {checkpoint.tree_size}: stored subtree hashes disagree")
    return problems


def _first_unsigned(size: int) -> str | None:
    """The first leaf whose rebuilt receipt its stored signature does not cover."""
    keys = dict(LogKey.objects.values_list("key_id", "public_key"))
    for leaf in _rebuilt_leaves(size):
        if leaf.payload is None or not _verify(keys[leaf.key_id], leaf.signature, leaf.payload):
            return _describe(leaf)
    return None


def log_verify(*, limit: int) -> LogReport:
    size = log_size()
    checkpoint = Checkpoint.objects.select_related("key").order_by("-tree_size").first()
    report = LogReport(leaves=size, checkpoint_size=checkpoint.tree_size if checkpoint else 0)
    frontier, rebuilt_root = merkle.Frontier(), merkle.EMPTY_ROOT
    for leaf in _rebuilt_leaves(size):
        digest = merkle.leaf_hash(leaf.payload) if leaf.payload is not None else b""
        if digest != leaf.stored_hash and len(report.problems) < limit:
            report.problems.append(_describe(leaf))
        frontier.append(digest)
        if frontier.size == report.checkpoint_size:
            rebuilt_root = frontier.root()
    if checkpoint is not None:
        root_problems = _checkpoint_problems(checkpoint, rebuilt_root)
        if root_problems and not report.problems:
            located = _first_unsigned(size)
            report.problems += [located] if located else []
        report.problems += root_problems
    return report

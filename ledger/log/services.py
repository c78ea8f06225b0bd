"""Writes to the public log. None of this runs on the transfer path: the sequencer calls
`log_append` after the money transaction committed, and a worker calls `log_checkpoint_create`
every LOG_INTERVAL seconds."""

import uuid
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from ledger.exceptions import NoReceipt, NotPosted
from ledger.log import merkle
from ledger.log.posted import posted_get
from ledger.log.receipts import checkpoint_text, receipt_payload, timestamp_text
from ledger.log.selectors import from_stored_nodes, log_size, stored_hashes
from ledger.log.signing import SigningKey, signing_key
from ledger.models import Checkpoint, LogKey, LogLeaf, LogNode

# Any constant: the PostgreSQL advisory lock that lets one writer at a time extend the log.
_LOG_LOCK = 0x6C6F67


@dataclass(frozen=True)
class Receipt:
    payload: str
    leaf_hash: bytes
    log_index: int | None
    key_id: str
    signature: bytes


def _log_lock() -> None:
    """Serialize log writers. SQLite already does: a write transaction takes the database lock
    at BEGIN (IMMEDIATE); a unique index and the next-position trigger back both up."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOG_LOCK])


def _key_in_use() -> SigningKey:
    """The current signing key, recorded in LogKey the first time it is used."""
    key = signing_key()
    LogKey.objects.bulk_create(
        [LogKey(key_id=key.key_id, public_key=key.public)], ignore_conflicts=True
    )
    return key


def _frontier(size: int) -> merkle.Frontier:
    wanted = merkle.frontier_nodes(size)
    hashes = stored_hashes(set(wanted))
    return merkle.Frontier(size, [hashes[node] for node in wanted])


def log_append(*, transaction_ids: list[uuid.UUID]) -> None:
    """Append these posted transactions as the next leaves, in the given order, in the caller's
    database transaction, with their signed receipts and the subtree hashes they complete.
    Ids already in the log are skipped (the unique transaction column stands behind it); an id
    without ledger entries raises NotPosted."""
    ids = list(dict.fromkeys(uuid.UUID(str(value)) for value in transaction_ids))
    with transaction.atomic():
        _log_lock()
        logged = set(
            LogLeaf.objects.filter(transaction_id__in=ids).values_list("transaction_id", flat=True)
        )
        ids = [value for value in ids if value not in logged]
        if not ids:
            return
        posted = posted_get(ids)
        missing = [str(value) for value in ids if value not in posted]
        if missing:
            raise NotPosted(f"Not posted: {', '.join(missing)}.")
        key = _key_in_use()
        frontier = _frontier(log_size())
        leaves, nodes = [], []
        for value in ids:
            payload = receipt_payload(posted[value]).encode()
            digest = merkle.leaf_hash(payload)
            leaves.append(
                LogLeaf(
                    log_index=frontier.size,
                    transaction_id=value,
                    payload=payload.decode(),
                    leaf_hash=digest,
                    signature=key.sign(payload),
                    key_id=key.key_id,
                )
            )
            nodes += [LogNode(level=lv, position=p, hash=h) for lv, p, h in frontier.append(digest)]
        LogLeaf.objects.bulk_create(leaves)
        LogNode.objects.bulk_create(nodes)


def log_checkpoint_create() -> Checkpoint | None:
    """Sign the log's current root if the log grew since the last checkpoint; None otherwise."""
    with transaction.atomic():
        _log_lock()
        size = log_size()
        last = Checkpoint.objects.order_by("-tree_size").values_list("tree_size", flat=True)
        if size == 0 or (last.first() or 0) >= size:
            return None
        root = from_stored_nodes(lambda get: merkle.root_hash(size, get))
        key = _key_in_use()
        moment = timezone.now()
        text = checkpoint_text(
            tree_size=size, root_hash=root.hex(), timestamp=timestamp_text(moment)
        )
        return Checkpoint.objects.create(
            tree_size=size,
            root_hash=root,
            timestamp=moment,
            key_id=key.key_id,
            signature=key.sign(text),
        )


def receipt_get(*, transaction_id: uuid.UUID) -> Receipt:
    """The receipt as signed when the transaction entered the log; before that, built and
    signed now (Ed25519 signatures are deterministic, so it is the same receipt the log will
    hold) with no log index."""
    leaf = LogLeaf.objects.filter(transaction_id=transaction_id).first()
    if leaf is not None:
        return Receipt(
            leaf.payload, bytes(leaf.leaf_hash), leaf.log_index, leaf.key_id, bytes(leaf.signature)
        )
    posted = posted_get([transaction_id]).get(transaction_id)
    if posted is None:
        raise NoReceipt()
    payload = receipt_payload(posted).encode()
    key = _key_in_use()
    return Receipt(payload.decode(), merkle.leaf_hash(payload), None, key.key_id, key.sign(payload))

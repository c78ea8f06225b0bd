"""The canonical forms that are signed: a receipt's payload and a checkpoint's text.

Payload: the JSON text of one posted transaction with its entries, written with sorted keys,
no whitespace, ASCII only (anything else escaped as \\uXXXX), amounts and balances as integer
minor units, ids as strings and times as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`. Version 1:

    {"_id": transaction id, "amount": int, "createdAt": time, "currency": ISO 4217 code,
     "entries": [{"_id": entry id, "account": account id, "amount": int,
                  "balanceAfter": int, "type": "DEBIT"|"CREDIT"}, ...  (by entry id)],
     "kind": "TRANSFER"|..., "version": 1}

The transaction's status is left out on purpose: it changes (COMPLETED -> REVERSED) while what
was posted never does. The same inputs always give the same bytes, so `verify_ledger` can
rebuild every leaf from the ledger tables and compare."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

PAYLOAD_VERSION = 1


@dataclass(frozen=True)
class Leg:
    entry_id: int
    account_id: uuid.UUID
    type: str
    amount: int
    balance_after: int


@dataclass(frozen=True)
class PostedTransaction:
    """A posted transaction as the receipt shows it."""

    transaction_id: uuid.UUID
    kind: str
    amount: int
    currency: str
    created_at: datetime
    legs: tuple[Leg, ...]


def timestamp_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(document: dict) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def receipt_payload(posted: PostedTransaction) -> str:
    legs = sorted(posted.legs, key=lambda leg: leg.entry_id)
    return canonical_json(
        {
            "_id": str(posted.transaction_id),
            "amount": posted.amount,
            "createdAt": timestamp_text(posted.created_at),
            "currency": posted.currency,
            "entries": [
                {
                    "_id": str(leg.entry_id),
                    "account": str(leg.account_id),
                    "amount": leg.amount,
                    "balanceAfter": leg.balance_after,
                    "type": leg.type,
                }
                for leg in legs
            ],
            "kind": posted.kind,
            "version": PAYLOAD_VERSION,
        }
    )


def checkpoint_text(*, tree_size: int, root_hash: str, timestamp: str) -> bytes:
    """What a checkpoint's signature covers (API.md), the fields as the API renders them."""
    return f"bankledger-checkpoint\n{tree_size}\n{root_hash}\n{timestamp}\n".encode()

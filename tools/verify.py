#!/usr/bin/env python3
"""Verify bankledger receipts and its public log, offline, with nothing but Python (3.9+) and the
`cryptography` package. It does not use the bankledger code: the formats it checks are the
documented ones (README "Receipts and the public log").

    verify.py receipt --receipt R --keys K [--checkpoint C --proof P]
    verify.py consistency --old C1 --new C2 --proof P --keys K
    verify.py receipt --api https://host/api --transaction ID --token JWT
    verify.py consistency --api https://host/api --old saved-checkpoint.json

R, K, C, P are JSON files, `-` for standard input, or http(s) URLs. With --api, what is not given
is fetched: the keys, the latest checkpoint, the receipt and its proof for that checkpoint, the
consistency proof between the two checkpoints.

`receipt` checks the receipt's Ed25519 signature by the key its keyId names, that its leafHash is
SHA-256(0x00 || payload) and that the payload is in canonical form; with a checkpoint and a proof
also the checkpoint's signature and the RFC 9162 inclusion of the leaf in that checkpoint's tree.
`consistency` checks both checkpoints' signatures and the RFC 9162 consistency proof: the newer
tree extends the older one, nothing in it was changed.

Exit status: 0 verified; 1 verification failed (the reason is printed); 2 an input could not be
read; 3 the receipt is genuine but not in a signed checkpoint yet (retry in a few seconds)."""

import argparse
import base64
import binascii
import hashlib
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

CHECKPOINT_TEXT = "bankledger-checkpoint\n{treeSize}\n{rootHash}\n{timestamp}\n"


class Failed(Exception):
    """Verification failed; the message says why."""


class Unreadable(Exception):
    """An input could not be read."""


class NotYetLogged(Exception):
    """The receipt verifies but no signed checkpoint covers it yet."""


# RFC 9162 section 2.1: leaf and node hashes, inclusion and consistency verification.


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _shift_while_even(fn: int, sn: int) -> tuple:
    while fn & 1 == 0 and fn != 0:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list) -> bytes:
    """RFC 9162 2.1.3.2: the root that `path` leads to from leaf `index` of a `size` tree."""
    if index >= size:
        raise Failed(f"logIndex {index} is not below treeSize {size}")
    fn, sn, digest = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise Failed("the audit path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            digest = node_hash(sibling, digest)
            fn, sn = _shift_while_even(fn, sn)
        else:
            digest = node_hash(digest, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Failed("the audit path is shorter than the tree is deep")
    return digest


def roots_from_consistency(old: int, new: int, old_root: bytes, proof: list) -> tuple:
    """RFC 9162 2.1.4.2: the (old, new) roots that `proof` leads to."""
    if not 0 < old <= new:
        raise Failed(f"sizes {old} and {new} cannot be proven consistent")
    if old == new:
        if proof:
            raise Failed("a proof between equal sizes must be empty")
        return old_root, old_root
    if old & (old - 1) == 0:
        proof = [old_root, *proof]
    if not proof:
        raise Failed("the consistency proof is empty")
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = proof[0]
    for node in proof[1:]:
        if sn == 0:
            raise Failed("the consistency proof is too long")
        if fn & 1 or fn == sn:
            first, second = node_hash(node, first), node_hash(node, second)
            fn, sn = _shift_while_even(fn, sn)
        else:
            second = node_hash(second, node)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Failed("the consistency proof is too short")
    return first, second


# Inputs


def load(source: str, token: str = "") -> dict:
    """JSON from a file, `-` (stdin) or an http(s) URL."""
    try:
        if source == "-":
            return json.load(sys.stdin)
        if source.startswith(("http://", "https://")):
            # The scheme is checked just above: no file: or custom schemes.
            request = urllib.request.Request(source, headers={"Accept": "application/json"})  # noqa: S310
            if token:
                request.add_header("Authorization", f"Bearer {token}")
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return json.load(response)
        with open(source, encoding="utf-8") as file:
            return json.load(file)
    except urllib.error.HTTPError as error:
        raise Unreadable(f"{source}: HTTP {error.code} {error.read()[:300]!r}") from error
    except (OSError, ValueError) as error:
        raise Unreadable(f"{source}: {error}") from error


def _field(document: dict, name: str, kind: type):
    value = document.get(name) if isinstance(document, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Failed(f"`{name}` is missing or not a {kind.__name__}")
    return value


def _hex(document: dict, name: str) -> bytes:
    text = _field(document, name, str)
    if len(text) != 64 or text != text.lower():
        raise Failed(f"`{name}` is not 64 lowercase hex digits")
    try:
        return bytes.fromhex(text)
    except ValueError as error:
        raise Failed(f"`{name}` is not hex") from error


def _b64(document: dict, name: str) -> bytes:
    try:
        return base64.b64decode(_field(document, name, str), validate=True)
    except binascii.Error as error:
        raise Failed(f"`{name}` is not base64") from error


def _hex_list(document: dict, name: str) -> list:
    return [_hex({name: item}, name) for item in _field(document, name, list)]


# Checks


def public_keys(listing: dict) -> dict:
    """keyId -> public key, each keyId checked against its key (SHA-256, first 16 hex digits)."""
    keys = {}
    for entry in _field(listing, "keys", list):
        raw = _b64(entry, "publicKey")
        key_id = _field(entry, "keyId", str)
        if len(raw) != 32 or hashlib.sha256(raw).hexdigest()[:16] != key_id:
            raise Failed(f"key {key_id} does not match its public key")
        keys[key_id] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


def check_signature(keys: dict, key_id: str, signature: bytes, message: bytes, what: str):
    if key_id not in keys:
        raise Failed(f"{what}: key {key_id} is not among the log's keys")
    try:
        keys[key_id].verify(signature, message)
    except InvalidSignature as error:
        raise Failed(f"{what}: the signature does not verify") from error


def check_checkpoint(checkpoint: dict, keys: dict) -> tuple:
    checkpoint = checkpoint.get("checkpoint", checkpoint)
    size = _field(checkpoint, "treeSize", int)
    root = _hex(checkpoint, "rootHash")
    text = CHECKPOINT_TEXT.format(
        treeSize=size, rootHash=root.hex(), timestamp=_field(checkpoint, "timestamp", str)
    )
    what = f"checkpoint {size}"
    check_signature(
        keys, _field(checkpoint, "keyId", str), _b64(checkpoint, "signature"), text.encode(), what
    )
    return size, root


def check_receipt(receipt: dict, keys: dict) -> bytes:
    receipt = receipt.get("receipt", receipt)
    payload = _field(receipt, "payload", str)
    check_signature(
        keys, _field(receipt, "keyId", str), _b64(receipt, "signature"), payload.encode(), "receipt"
    )
    try:
        canonical = json.dumps(
            json.loads(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        )
    except ValueError as error:
        raise Failed("receipt: the payload is not JSON") from error
    if canonical != payload:
        raise Failed("receipt: the payload is not in canonical form")
    digest = leaf_hash(payload.encode())
    if _hex(receipt, "leafHash") != digest:
        raise Failed("receipt: leafHash is not SHA-256(0x00 || payload)")
    return digest


def check_inclusion(receipt: dict, leaf: bytes, proof: dict, size: int, root: bytes):
    receipt = receipt.get("receipt", receipt)
    index, proof_size = _field(proof, "logIndex", int), _field(proof, "treeSize", int)
    if proof_size != size:
        raise Failed(f"the proof is for tree size {proof_size}, the checkpoint for {size}")
    if receipt.get("logIndex") not in (None, index):
        raise Failed(f"the receipt is at logIndex {receipt['logIndex']}, the proof at {index}")
    if _hex(proof, "leafHash") != leaf:
        raise Failed("the proof is for another leaf than this receipt")
    reached = root_from_inclusion(index, size, leaf, _hex_list(proof, "auditPath"))
    if reached != root:
        raise Failed(
            f"not included in checkpoint {size}: the audit path leads to root {reached.hex()}, "
            f"the checkpoint signed {root.hex()}"
        )


# Commands


def _api_url(api: str, path: str, **query) -> str:
    suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
    return f"{api.rstrip('/')}/{path}{suffix}"


def run_receipt(args) -> list:
    api, token = args.api, args.token
    if api and not (args.receipt or args.transaction):
        raise Unreadable("--api needs --transaction (or --receipt)")
    receipt = load(args.receipt or _api_url(api, f"transactions/{args.transaction}/receipt"), token)
    keys = public_keys(load(args.keys or _api_url(api, "log/keys"), token))
    leaf = check_receipt(receipt, keys)
    done = ["receipt signature and leaf hash OK"]
    if not (args.checkpoint or api):
        return done
    size, root = check_checkpoint(
        load(args.checkpoint or _api_url(api, "log/checkpoints/latest"), token), keys
    )
    done.append(f"checkpoint {size} signature OK")
    index = receipt.get("receipt", receipt).get("logIndex")
    if not args.proof and (index is None or index >= size):
        raise NotYetLogged(f"{'; '.join(done)}; not in a signed checkpoint yet")
    source = args.proof or _api_url(api, f"transactions/{args.transaction}/proof", treeSize=size)
    check_inclusion(receipt, leaf, load(source, token), size, root)
    return [*done, f"included in checkpoint {size} (root {root.hex()})"]


def run_consistency(args) -> list:
    api, token = args.api, args.token
    if not (args.new or api) or not (args.keys or api) or not (args.proof or api):
        raise Unreadable("give --new, --proof and --keys, or --api")
    keys = public_keys(load(args.keys or _api_url(api, "log/keys"), token))
    old, old_root = check_checkpoint(load(args.old, token), keys)
    new, new_root = check_checkpoint(
        load(args.new or _api_url(api, "log/checkpoints/latest"), token), keys
    )
    proof = load(args.proof or _api_url(api, "log/consistency", **{"from": old, "to": new}), token)
    if (_field(proof, "from", int), _field(proof, "to", int)) != (old, new):
        raise Failed(f"the proof is for sizes {proof['from']}..{proof['to']}, not {old}..{new}")
    first, second = roots_from_consistency(old, new, old_root, _hex_list(proof, "proof"))
    if first != old_root or second != new_root:
        raise Failed(f"checkpoint {new} does not extend checkpoint {old}: the log was rewritten")
    return [f"checkpoints {old} and {new} signatures OK", f"checkpoint {new} extends {old}"]


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = main.add_subparsers(dest="command", required=True)
    receipt = commands.add_parser("receipt", help="a receipt, and its inclusion in a checkpoint")
    receipt.add_argument("--receipt")
    receipt.add_argument("--transaction", help="with --api: the transaction's _id")
    receipt.add_argument("--checkpoint")
    receipt.add_argument("--proof")
    consistency = commands.add_parser("consistency", help="a newer checkpoint extends an older")
    consistency.add_argument("--old", required=True)
    consistency.add_argument("--new")
    consistency.add_argument("--proof")
    for command in (receipt, consistency):
        command.add_argument("--keys")
        command.add_argument("--api", help="base URL, e.g. https://host/api")
        command.add_argument("--token", default="", help="JWT for receipts and proofs")
    return main


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.command == "receipt" and not (args.receipt or args.api):
        parser().error("give --receipt, or --api with --transaction")
    if args.command == "receipt" and bool(args.checkpoint) != bool(args.proof) and not args.api:
        parser().error("--checkpoint and --proof go together")
    if args.command == "receipt" and not (args.keys or args.api):
        parser().error("give --keys, or --api")
    try:
        done = run_receipt(args) if args.command == "receipt" else run_consistency(args)
    except Failed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    except Unreadable as problem:
        print(f"ERROR: {problem}", file=sys.stderr)
        return 2
    except NotYetLogged as pending:
        print(f"PENDING: {pending}", file=sys.stderr)
        return 3
    for line in done:
        print(f"OK: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

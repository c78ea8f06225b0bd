"""The Ed25519 key that signs receipts and checkpoints.

`LEDGER_SIGNING_KEY` (base64 of the raw 32-byte private key) in production. With DEBUG on and
no key set, a development key is kept in `LEDGER_SIGNING_KEY_FILE`, created on first use
(`make run` creates it up front). Rotating means setting a new key: what the old key signed
keeps its `keyId`, and the old public key stays listed because every key is recorded in
`LogKey` the first time it signs."""

import base64
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    public: bytes
    key_id: str

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def key_id_of(public: bytes) -> str:
    """API.md: the first 16 hex digits of SHA-256 over the raw 32-byte public key."""
    return hashlib.sha256(public).hexdigest()[:16]


@lru_cache(maxsize=4)
def _key_from(encoded: str) -> SigningKey:
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(encoded, validate=True))
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return SigningKey(private=private, public=public, key_id=key_id_of(public))


def new_encoded_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _development_key(path: Path) -> str:
    """Read the development key file, creating it (mode 0600) when it does not exist yet."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        encoded = new_encoded_key()
        file.write(encoded + "\n")
    return encoded


def signing_key() -> SigningKey:
    encoded = settings.LEDGER_SIGNING_KEY
    if not encoded:
        encoded = _development_key(Path(settings.LEDGER_SIGNING_KEY_FILE))
    return _key_from(encoded)

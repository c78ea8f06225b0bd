"""The ledger's public log: the Ed25519 key that signs receipts and checkpoints, and how often a
checkpoint is signed."""

import base64
import binascii

from django.core.exceptions import ImproperlyConfigured

from .base import DEBUG
from .environment import BASE_DIR, env

# Base64 of the raw 32-byte Ed25519 private key. Generate one with
#   python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"
# (any 32 random bytes are a valid Ed25519 private key). Required when DEBUG is off; with DEBUG
# on and no key, the development key in LEDGER_SIGNING_KEY_FILE is used (made on first use).
LEDGER_SIGNING_KEY = env("LEDGER_SIGNING_KEY", default="")
LEDGER_SIGNING_KEY_FILE = BASE_DIR / ".ledger-signing-key"
if not LEDGER_SIGNING_KEY and not DEBUG:
    raise ImproperlyConfigured("LEDGER_SIGNING_KEY must be set when DEBUG is off.")
if LEDGER_SIGNING_KEY:
    try:
        _raw = base64.b64decode(LEDGER_SIGNING_KEY, validate=True)
    except binascii.Error:
        _raw = b""
    if len(_raw) != 32:
        raise ImproperlyConfigured(
            "LEDGER_SIGNING_KEY must be the base64 of a 32-byte Ed25519 private key."
        )

# Seconds between signed checkpoints (one is signed only when the log grew).
LOG_INTERVAL = env.int("LOG_INTERVAL", default=10)

"""The signing key: required with DEBUG off, checked for form at start, a development key file
made on first use with DEBUG on; and the operator's `log_checkpoint` command."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from ledger.log.services import log_append
from ledger.log.signing import signing_key
from ledger.models import Checkpoint

ROOT = Path(__file__).resolve().parents[2]


def _start(**env):
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "LEDGER_SIGNING_KEY"}}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "bankledger.settings",
            "JWT_SECRET": "j" * 48,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_a_key():
    result = _start(DEBUG="false")
    assert result.returncode != 0
    assert "LEDGER_SIGNING_KEY must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize("key", ["c2hvcnQ=", "not base64!", "A" * 44 + "=="])
def test_a_malformed_key_refuses_to_start(key):
    result = _start(DEBUG="false", LEDGER_SIGNING_KEY=key)
    assert "base64 of a 32-byte Ed25519 private key" in result.stderr


def test_a_good_key_starts(settings):
    result = _start(DEBUG="false", LEDGER_SIGNING_KEY=settings.LEDGER_SIGNING_KEY)
    assert result.returncode == 0, result.stderr


def test_debug_without_a_key_makes_a_private_development_key_once(settings, tmp_path):
    settings.LEDGER_SIGNING_KEY = ""
    settings.LEDGER_SIGNING_KEY_FILE = tmp_path / ".ledger-signing-key"
    first = signing_key()
    assert stat.S_IMODE(settings.LEDGER_SIGNING_KEY_FILE.stat().st_mode) == 0o600
    assert signing_key().key_id == first.key_id


@pytest.mark.django_db
def test_log_checkpoint_command(post, capsys):
    call_command("log_checkpoint")
    assert "did not grow (size 0)" in capsys.readouterr().out
    log_append(transaction_ids=[tx.id for tx in post(2)])
    call_command("log_checkpoint")
    checkpoint = Checkpoint.objects.get()
    out = capsys.readouterr().out
    assert f"Signed checkpoint 2: root {bytes(checkpoint.root_hash).hex()}" in out

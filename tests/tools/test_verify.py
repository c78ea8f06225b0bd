"""`tools/verify.py`, the standalone verifier a customer runs, in a real child process: it
accepts genuine receipts, checkpoints and proofs from files or from the API's URLs, and exits
non-zero with a clear reason for anything altered."""

import ast
import base64
import json
import subprocess
import sys
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.wsgi import get_wsgi_application
from rest_framework.test import APIClient

from ledger.log.services import log_append, log_checkpoint_create
from ledger.log.signing import _key_from, new_encoded_key
from tests.conftest import client_for
from tests.ledger.log_helpers import VERIFY_PY
from users.services import token_issue

PORTS = range(8300, 8350)


def verify(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-I", str(VERIFY_PY), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def test_it_imports_nothing_but_the_standard_library_and_cryptography():
    tree = ast.parse(VERIFY_PY.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


@pytest.fixture
def documents(post, user, tmp_path):
    """Receipt, proof, two checkpoints, consistency proof and keys, as the API serves them."""
    txs = post(7)
    log_append(transaction_ids=[tx.id for tx in txs[:3]])
    log_checkpoint_create()
    log_append(transaction_ids=[tx.id for tx in txs[3:]])
    log_checkpoint_create()
    anon, api = APIClient(), client_for(user)
    served = {
        "receipt": api.get(f"/api/transactions/{txs[1].id}/receipt").json(),
        "proof": api.get(f"/api/transactions/{txs[1].id}/proof").json(),
        "checkpoint": anon.get("/api/log/checkpoints/latest").json(),
        "old": anon.get("/api/log/checkpoints/3").json(),
        "consistency": anon.get("/api/log/consistency", {"from": 3, "to": 7}).json(),
        "keys": anon.get("/api/log/keys").json(),
    }
    paths = {}
    for name, body in served.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(body))
    return served, paths


def _receipt_args(paths):
    return [
        "receipt",
        "--receipt",
        paths["receipt"],
        "--keys",
        paths["keys"],
        "--checkpoint",
        paths["checkpoint"],
        "--proof",
        paths["proof"],
    ]


def _consistency_args(paths):
    return [
        "consistency",
        "--old",
        paths["old"],
        "--new",
        paths["checkpoint"],
        "--proof",
        paths["consistency"],
        "--keys",
        paths["keys"],
    ]


def test_a_genuine_receipt_is_included_and_checkpoints_are_consistent(documents):
    _, paths = documents
    result = verify(*_receipt_args(paths))
    assert result.returncode == 0, result.stderr
    assert "OK: receipt signature and leaf hash OK" in result.stdout
    assert "OK: included in checkpoint 7" in result.stdout
    result = verify(*_consistency_args(paths))
    assert result.returncode == 0, result.stderr
    assert "OK: checkpoint 7 extends 3" in result.stdout
    alone = verify("receipt", "--receipt", paths["receipt"], "--keys", paths["keys"])
    assert alone.returncode == 0, alone.stderr


def _altered(paths, name, change):
    body = json.loads(paths[name].read_text())
    change(body)
    paths[name].write_text(json.dumps(body))


def _later(timestamp: str) -> str:
    """The same timestamp one microsecond later (its last digit changed)."""
    return timestamp[:-2] + str((int(timestamp[-2]) + 1) % 10) + "Z"


def _receipt(body):
    return body["receipt"]


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        (
            "receipt",
            lambda b: _receipt(b).update(payload=_receipt(b)["payload"].replace("125", "126")),
            "receipt: the signature does not verify",
        ),
        ("receipt", lambda b: _receipt(b).update(keyId="0" * 16), "is not among the log's keys"),
        (
            "receipt",
            lambda b: _receipt(b).update(leafHash="00" * 32),
            "leafHash is not SHA-256(0x00 || payload)",
        ),
        ("checkpoint", lambda b: b.update(rootHash="ab" * 32), "signature does not verify"),
        ("checkpoint", lambda b: b.update(timestamp=_later(b["timestamp"])), "does not verify"),
        ("proof", lambda b: b["auditPath"].reverse(), "not included in checkpoint 7"),
        ("proof", lambda b: b.update(logIndex=2), "at logIndex 1, the proof at 2"),
        ("proof", lambda b: b["auditPath"].pop(), "shorter than the tree is deep"),
        ("keys", lambda b: b["keys"][0].update(keyId="0" * 16), "does not match its public key"),
    ],
)
def test_anything_altered_fails_with_its_reason(documents, name, change, reason):
    _, paths = documents
    _altered(paths, name, change)
    result = verify(*_receipt_args(paths))
    assert result.returncode == 1
    assert result.stderr.startswith("FAILED: ") and reason in result.stderr, result.stderr


def test_another_logs_key_is_refused(documents):
    _, paths = documents
    other = _key_from(new_encoded_key())
    _altered(
        paths,
        "keys",
        lambda b: b["keys"][0].update(
            publicKey=base64.b64encode(other.public).decode(), keyId=other.key_id
        ),
    )
    result = verify(*_receipt_args(paths))
    assert result.returncode == 1 and "is not among the log's keys" in result.stderr


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        ("consistency", lambda b: b["proof"].reverse(), "does not extend checkpoint 3"),
        ("consistency", lambda b: b.update({"from": 2}), "the proof is for sizes 2..7"),
        ("old", lambda b: b.update(rootHash="cd" * 32), "checkpoint 3: the signature"),
    ],
)
def test_an_inconsistent_history_fails(documents, name, change, reason):
    _, paths = documents
    _altered(paths, name, change)
    result = verify(*_consistency_args(paths))
    assert result.returncode == 1 and reason in result.stderr, result.stderr


def test_an_unreadable_input_exits_2(documents, tmp_path):
    _, paths = documents
    result = verify("receipt", "--receipt", tmp_path / "missing.json", "--keys", paths["keys"])
    assert result.returncode == 2 and result.stderr.startswith("ERROR: ")
    (tmp_path / "bad.json").write_text("{not json")
    result = verify("receipt", "--receipt", tmp_path / "bad.json", "--keys", paths["keys"])
    assert result.returncode == 2


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """The app on a real loopback port, one thread, for the verifier's URL mode."""
    app = get_wsgi_application()
    for port in PORTS:
        try:
            httpd = make_server("127.0.0.1", port, app, WSGIServer, _QuietHandler)
            break
        except OSError:
            continue
    else:
        pytest.skip("no free port in 8300-8349")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/api"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.django_db(transaction=True)
def test_url_mode_fetches_what_it_needs(post, user, server, tmp_path, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    txs = post(5)
    log_append(transaction_ids=[tx.id for tx in txs[:2]])
    log_checkpoint_create()
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(APIClient().get("/api/log/checkpoints/latest").json()))
    log_append(transaction_ids=[tx.id for tx in txs[2:4]])
    log_checkpoint_create()
    token = token_issue(user=user)

    result = verify("receipt", "--api", server, "--transaction", txs[3].id, "--token", token)
    assert result.returncode == 0, result.stderr
    assert "OK: included in checkpoint 4" in result.stdout
    result = verify("consistency", "--api", server, "--old", saved)
    assert result.returncode == 0, result.stderr
    assert "OK: checkpoint 4 extends 2" in result.stdout
    pending = verify("receipt", "--api", server, "--transaction", txs[4].id, "--token", token)
    assert pending.returncode == 3 and "not in a signed checkpoint yet" in pending.stderr
    refused = verify("receipt", "--api", server, "--transaction", txs[3].id, "--token", "bad")
    assert refused.returncode == 2 and "HTTP 401" in refused.stderr
    # A URL works wherever a file does.
    result = verify(
        "receipt",
        "--receipt",
        tmp_path / "nothing-here.json",
        "--keys",
        f"{server}/log/keys",
    )
    assert result.returncode == 2

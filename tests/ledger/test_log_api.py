"""The public log's HTTP API: checkpoints, consistency proofs and keys without auth; receipts and
inclusion proofs with the transaction's visibility; JSON errors; one optional trailing slash."""

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rest_framework.test import APIClient

from ledger.log.services import log_append, log_checkpoint_create
from tests.conftest import client_for
from tests.ledger.log_helpers import load_verifier, mth

verifier = load_verifier()


@pytest.fixture
def anon(db):
    return APIClient()


@pytest.fixture
def logged(post):
    txs = post(5)
    log_append(transaction_ids=[tx.id for tx in txs[:3]])
    log_checkpoint_create()
    log_append(transaction_ids=[tx.id for tx in txs[3:]])
    log_checkpoint_create()
    return txs


@pytest.mark.parametrize("slash", ["", "/"])
def test_checkpoints_need_no_auth_and_verify(anon, logged, slash):
    latest = anon.get(f"/api/log/checkpoints/latest{slash}")
    assert latest.status_code == 200
    body = latest.json()
    assert set(body) == {"treeSize", "rootHash", "timestamp", "keyId", "signature"}
    assert body["treeSize"] == 5
    old = anon.get(f"/api/log/checkpoints/3{slash}").json()
    keys = anon.get(f"/api/log/keys{slash}").json()
    listed = verifier.public_keys(keys)
    assert verifier.check_checkpoint(body, listed)[0] == 5
    assert verifier.check_checkpoint(old, listed)[0] == 3
    text = f"bankledger-checkpoint\n3\n{old['rootHash']}\n{old['timestamp']}\n".encode()
    (key,) = keys["keys"]
    assert key["algorithm"] == "Ed25519"
    assert key["keyId"] == hashlib.sha256(base64.b64decode(key["publicKey"])).hexdigest()[:16]
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["publicKey"]))
    public.verify(base64.b64decode(old["signature"]), text)


def test_a_size_never_signed_is_404(anon, logged):
    for size in (1, 4, 6, 10**17, 10**30, "abc", "-1", "٣"):
        response = anon.get(f"/api/log/checkpoints/{size}")
        assert response.status_code == 404
        assert response.json()["code"] == "checkpoint_not_found"


def test_no_checkpoint_yet_is_404(anon):
    response = anon.get("/api/log/checkpoints/latest")
    assert (response.status_code, response.json()["code"]) == (404, "checkpoint_not_found")


@pytest.mark.parametrize("slash", ["", "/"])
def test_consistency_proof_verifies(anon, logged, slash):
    response = anon.get(f"/api/log/consistency{slash}", {"from": 3, "to": 5})
    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"]) == (3, 5)
    old = anon.get("/api/log/checkpoints/3").json()
    new = anon.get("/api/log/checkpoints/5").json()
    roots = verifier.roots_from_consistency(
        3, 5, bytes.fromhex(old["rootHash"]), [bytes.fromhex(h) for h in body["proof"]]
    )
    assert roots == (bytes.fromhex(old["rootHash"]), bytes.fromhex(new["rootHash"]))


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"from": 4, "to": 3}, "invalid_tree_size"),
        ({"from": 1, "to": 6}, "invalid_tree_size"),
        ({"from": 0, "to": 3}, "invalid_input"),
        ({"from": "x", "to": 3}, "invalid_input"),
        ({"to": 3}, "invalid_input"),
    ],
)
def test_bad_consistency_sizes_are_400(anon, logged, query, code):
    response = anon.get("/api/log/consistency", query)
    assert (response.status_code, response.json()["code"]) == (400, code)


@pytest.mark.parametrize("slash", ["", "/"])
def test_receipt_and_proof_for_the_owner(api, anon, logged, slash):
    tx = logged[1]
    receipt = api.get(f"/api/transactions/{tx.id}/receipt{slash}")
    assert receipt.status_code == 200
    body = receipt.json()["receipt"]
    assert body["logIndex"] == 1
    keys = verifier.public_keys(anon.get("/api/log/keys").json())
    leaf = verifier.check_receipt(body, keys)
    proof = api.get(f"/api/transactions/{tx.id}/proof{slash}")
    assert proof.status_code == 200
    assert proof.json()["treeSize"] == 5
    older = api.get(f"/api/transactions/{tx.id}/proof", {"treeSize": 3}).json()
    assert older["treeSize"] == 3
    for got in (proof.json(), older):
        checkpoint = anon.get(f"/api/log/checkpoints/{got['treeSize']}").json()
        size, root = verifier.check_checkpoint(checkpoint, keys)
        verifier.check_inclusion(body, leaf, got, size, root)


def test_receipt_before_the_log_has_no_index_and_the_proof_is_404(api, post, anon):
    (tx,) = post(1)
    body = api.get(f"/api/transactions/{tx.id}/receipt").json()["receipt"]
    assert body["logIndex"] is None
    keys = verifier.public_keys(anon.get("/api/log/keys").json())
    assert verifier.check_receipt(body, keys).hex() == body["leafHash"]
    response = api.get(f"/api/transactions/{tx.id}/proof")
    assert (response.status_code, response.json()["code"]) == (404, "not_in_log")
    # In the log but not yet in a signed checkpoint: still not provable.
    log_append(transaction_ids=[tx.id])
    assert api.get(f"/api/transactions/{tx.id}/proof").json()["code"] == "not_in_log"
    log_checkpoint_create()
    assert api.get(f"/api/transactions/{tx.id}/proof").status_code == 200


@pytest.mark.parametrize("size", [0, 1, 2, 6, "x"])
def test_a_tree_size_that_cannot_hold_the_leaf_is_400(api, logged, size):
    response = api.get(f"/api/transactions/{logged[2].id}/proof", {"treeSize": size})
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_tree_size", "invalid_input"}


def test_receipts_follow_the_transactions_visibility(logged, make_user, anon):
    stranger = client_for(make_user())
    for suffix in ("receipt", "proof"):
        for client, status in ((stranger, 404), (anon, 401)):
            response = client.get(f"/api/transactions/{logged[0].id}/{suffix}")
            assert response.status_code == status
        assert stranger.get(f"/api/transactions/not-a-uuid/{suffix}").status_code == 404


def test_a_refused_transaction_has_no_receipt(api, user, make_user, make_account):
    poor, other = make_account(user), make_account(make_user())
    response = api.post(
        "/api/transactions",
        {
            "fromAccount": str(poor.id),
            "toAccount": str(other.id),
            "amount": "5",
            "idempotencyKey": "k",
        },
        format="json",
    )
    failed = response.json()["transaction"]["_id"]
    response = api.get(f"/api/transactions/{failed}/receipt")
    assert (response.status_code, response.json()["code"]) == (404, "no_receipt")


def test_root_matches_an_independent_recomputation(anon, api, logged):
    payloads = [
        api.get(f"/api/transactions/{tx.id}/receipt").json()["receipt"]["payload"].encode()
        for tx in logged
    ]
    assert anon.get("/api/log/checkpoints/5").json()["rootHash"] == mth(payloads).hex()
    assert anon.get("/api/log/checkpoints/3").json()["rootHash"] == mth(payloads[:3]).hex()


def test_every_kind_gets_a_receipt_in_the_log(api, anon, user, make_account, fund, system_api):
    """Initial funds, a batch's items and a reversal are leaves like a transfer."""
    a, b = make_account(user), make_account(user)
    funding = fund(a, "100")
    items = [
        {"fromAccount": str(a.id), "toAccount": str(b.id), "amount": amount}
        for amount in ("1", "2")
    ]
    batch = api.post(
        "/api/transactions/batch", {"idempotencyKey": "b", "transfers": items}, format="json"
    )
    assert batch.status_code == 201, batch.content
    first = batch.json()["batch"]["transactions"][0]["_id"]
    reversal = system_api.post(
        f"/api/transactions/{first}/reverse",
        {"idempotencyKey": "r", "reason": "test"},
        format="json",
    )
    assert reversal.status_code == 201, reversal.content
    ids = [funding.id, *(t["_id"] for t in batch.json()["batch"]["transactions"])]
    ids.append(reversal.json()["transaction"]["_id"])
    log_append(transaction_ids=ids)
    log_checkpoint_create()
    keys = verifier.public_keys(anon.get("/api/log/keys").json())
    checkpoint = anon.get("/api/log/checkpoints/latest").json()
    size, root = verifier.check_checkpoint(checkpoint, keys)
    kinds = []
    for tx in ids:
        receipt = api.get(f"/api/transactions/{tx}/receipt").json()["receipt"]
        leaf = verifier.check_receipt(receipt, keys)
        verifier.check_inclusion(
            receipt, leaf, api.get(f"/api/transactions/{tx}/proof").json(), size, root
        )
        kinds.append(json.loads(receipt["payload"])["kind"])
    assert kinds == ["INITIAL_FUNDS", "TRANSFER", "TRANSFER", "REVERSAL"]
    assert size == 4

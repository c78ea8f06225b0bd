"""`reference` and `metadata` (API.md): every limit, part of the idempotency body, returned on
the transaction and in statements (JSON and CSV), and never changed once written, not even by
raw SQL."""

import csv
import io
import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from ledger.models import Hold
from transactions.models import Transaction

URL = "/api/transactions"


@pytest.fixture
def pair(user, make_account, fund):
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "100")
    return sender, receiver


def body(pair, key="k1", **extra):
    sender, receiver = pair
    return {
        "fromAccount": str(sender.id),
        "toAccount": str(receiver.id),
        "amount": "10",
        "idempotencyKey": key,
        **extra,
    }


def entries(n, value="v"):
    return {f"k{i}": value for i in range(n)}


VALID = [
    {"reference": "a"},
    {"reference": "x" * 128},
    {"reference": "INV 2026/0042 — é"},
    {"reference": None},
    {"metadata": {}},
    {"metadata": None},
    {"metadata": entries(16)},
    {"metadata": {"k" * 40: "v"}},
    {"metadata": {"A-z_0.9": ""}},
    {"metadata": {"k": "v" * 500}},
]

INVALID = [
    ("reference", ""),
    ("reference", "x" * 129),
    ("reference", "line\nbreak"),
    ("reference", "tab\there"),
    ("reference", "nul\x00"),
    ("reference", 42),
    ("reference", True),
    ("reference", ["a"]),
    ("metadata", []),
    ("metadata", "k=v"),
    ("metadata", 1),
    ("metadata", entries(17)),
    ("metadata", {"": "v"}),
    ("metadata", {"k" * 41: "v"}),
    ("metadata", {"has space": "v"}),
    ("metadata", {"slash/": "v"}),
    ("metadata", {"k": "v" * 501}),
    ("metadata", {"k": 1}),
    ("metadata", {"k": None}),
    ("metadata", {"k": {"nested": "v"}}),
    ("metadata", {"k": "nul\x00"}),
]


@pytest.mark.parametrize("extra", VALID)
def test_values_at_the_limits_are_accepted_and_returned(api, pair, extra):
    response = api.post(URL, body(pair, **extra), format="json")
    assert response.status_code == 201, response.json()
    tx = response.json()["transaction"]
    assert tx["reference"] == extra.get("reference")
    assert tx["metadata"] == (extra.get("metadata") or {})


@pytest.mark.parametrize(("field", "value"), INVALID)
def test_values_outside_the_limits_are_400_and_change_nothing(api, pair, field, value):
    response = api.post(URL, body(pair, **{field: value}), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert field in response.json()["errors"]
    assert not Transaction.objects.filter(kind="TRANSFER").exists()
    # Not recorded: the same key works once corrected.
    assert api.post(URL, body(pair), format="json").status_code == 201


def test_absent_labels_are_null_and_empty_everywhere(api, pair):
    tx = api.post(URL, body(pair), format="json").json()["transaction"]
    assert (tx["reference"], tx["metadata"], tx["batch"]) == (None, {}, None)
    detail = api.get(f"{URL}/{tx['_id']}").json()["transaction"]
    assert (detail["reference"], detail["metadata"]) == (None, {})


def test_labels_are_returned_on_the_detail_and_the_list(api, pair):
    labels = {"reference": "INV-1", "metadata": {"order": "42", "channel": "web"}}
    tx = api.post(URL, body(pair, **labels), format="json").json()["transaction"]
    detail = api.get(f"{URL}/{tx['_id']}").json()["transaction"]
    listed = api.get(URL, {"limit": 1}).json()["transactions"][0]
    for shown in (tx, detail, listed):
        assert (shown["reference"], shown["metadata"]) == ("INV-1", labels["metadata"])


def test_replay_with_the_same_labels_in_any_key_order_is_200(api, pair):
    first = api.post(URL, body(pair, reference="R", metadata={"a": "1", "b": "2"}), format="json")
    again = api.post(URL, body(pair, reference="R", metadata={"b": "2", "a": "1"}), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["transaction"]["_id"] == first.json()["transaction"]["_id"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"reference": "R"}, {"reference": "S"}),
        ({"reference": "R"}, {}),
        ({}, {"reference": "R"}),
        ({"metadata": {"a": "1"}}, {"metadata": {"a": "2"}}),
        ({"metadata": {"a": "1"}}, {"metadata": {"b": "1"}}),
        ({"metadata": {"a": "1"}}, {"metadata": {"a": "1", "b": "2"}}),
        ({}, {"metadata": {"a": "1"}}),
        ({"reference": "R", "metadata": {"a": "1"}}, {"reference": "R"}),
    ],
)
def test_same_key_with_other_labels_is_409(api, pair, first, second):
    assert api.post(URL, body(pair, **first), format="json").status_code == 201
    response = api.post(URL, body(pair, **second), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Transaction.objects.filter(kind="TRANSFER").count() == 1


def test_a_recorded_refusal_keeps_its_labels_and_replays(api, pair):
    labels = {"amount": "1000", "reference": "too-much", "metadata": {"try": "1"}}
    refused = api.post(URL, body(pair, **labels), format="json")
    assert refused.status_code == 400
    assert refused.json()["transaction"]["reference"] == "too-much"
    assert api.post(URL, body(pair, **labels), format="json").json() == refused.json()
    changed = {**labels, "metadata": {"try": "2"}}
    assert api.post(URL, body(pair, **changed), format="json").status_code == 409


def test_initial_funds_take_labels(system_api, user, make_account):
    account = make_account(user)
    data = {
        "toAccount": str(account.id),
        "amount": "5",
        "idempotencyKey": "seed",
        "reference": "seed-1",
        "metadata": {"campaign": "launch"},
    }
    url = f"{URL}/system/initial-funds"
    tx = system_api.post(url, data, format="json").json()["transaction"]
    assert (tx["reference"], tx["metadata"]) == ("seed-1", {"campaign": "launch"})
    assert system_api.post(url, {**data, "reference": "seed-2"}, format="json").status_code == 409


def test_statements_show_labels_in_json_and_csv(api, pair):
    sender, _ = pair
    api.post(URL, body(pair, reference="INV,1", metadata={"b": "2", "a": 'x"y'}), format="json")
    statement = f"/api/accounts/{sender.id}/statement"
    last = api.get(statement).json()["entries"][-1]
    assert (last["reference"], last["metadata"]) == ("INV,1", {"b": "2", "a": 'x"y'})
    first = api.get(statement).json()["entries"][0]  # the initial funds: no labels
    assert (first["reference"], first["metadata"]) == (None, {})
    rows = list(
        csv.DictReader(io.StringIO(b"".join(api.get(statement, {"format": "csv"})).decode()))
    )
    assert (rows[-1]["reference"], rows[-1]["metadata"]) == ("INV,1", '{"a": "x\\"y", "b": "2"}')
    assert (rows[0]["reference"], rows[0]["metadata"]) == ("", "")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE transactions_transaction SET reference = 'forged' WHERE id = %s",
        "UPDATE transactions_transaction SET reference = NULL WHERE id = %s",
        "UPDATE transactions_transaction SET metadata = '{}' WHERE id = %s",
        """UPDATE transactions_transaction SET metadata = '{"a": "2"}' WHERE id = %s""",
    ],
)
def test_raw_sql_cannot_change_a_written_reference_or_metadata(api, pair, sql):
    tx = api.post(URL, body(pair, reference="R", metadata={"a": "1"}), format="json").json()
    key = Transaction._meta.pk.get_db_prep_value(tx["transaction"]["_id"], connection)
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [key])
    fresh = Transaction.objects.get(id=tx["transaction"]["_id"])
    assert (fresh.reference, fresh.metadata) == ("R", {"a": "1"})


@pytest.mark.django_db(transaction=True)
def test_raw_sql_cannot_add_a_reference_to_a_transaction_without_one(api, pair):
    tx = api.post(URL, body(pair), format="json").json()["transaction"]
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        Transaction.objects.filter(id=tx["_id"]).update(reference="late", metadata={"a": "1"})
    # Other columns still change where the money path changes them (a reversal's status).
    Transaction.objects.filter(id=tx["_id"]).update(status="REVERSED")


BROKEN_METADATA = [
    entries(17),
    {"": "x"},
    {"k" * 41: "x"},
    {"a b": "x"},
    {"é": "x"},
    {"a": 1},
    {"a": None},
    {"a": "x" * 501},
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("metadata", BROKEN_METADATA)
def test_the_database_refuses_a_transaction_or_hold_with_metadata_outside_the_limits(
    api, pair, metadata
):
    """Past the API's validation (the ORM checks nothing of metadata), the database refuses."""
    limits = {**entries(14), "k" * 40: "x" * 500, "multi-line.ok_1": "a\nb"}
    tx = api.post(URL, body(pair, metadata=limits), format="json").json()["transaction"]
    hold = api.post(
        "/api/holds", body(pair, key="h1", amount="1", metadata=limits), format="json"
    ).json()["hold"]
    rows = [Transaction.objects.get(id=tx["_id"]), Hold.objects.get(id=hold["_id"])]
    assert [row.metadata for row in rows] == [limits, limits]  # the limits themselves pass
    for row in rows:
        row.pk, row.idempotency_key, row.metadata = uuid.uuid4(), "forged", metadata
        with (
            pytest.raises(DatabaseError, match="metadata outside its limits"),
            transaction.atomic(),
        ):
            row.save(force_insert=True)
    assert Transaction.objects.filter(idempotency_key="forged").count() == 0
    assert Hold.objects.filter(idempotency_key="forged").count() == 0

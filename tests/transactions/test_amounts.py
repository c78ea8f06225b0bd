"""Amounts at the edge (API.md): a JSON number or a decimal string in major units, never a float."""

import json

import pytest

from accounts.models import Account
from transactions.models import Transaction

URL = "/api/transactions"


@pytest.fixture
def pair(user, make_account, fund, settings):
    sender, receiver = make_account(user), make_account(user)
    fund(sender, "100000000000")  # 10^13 minor units: the upper bound
    return sender, receiver


def _post(api, pair, raw_amount: str, key="amount-key"):
    sender, receiver = pair
    raw = (
        f'{{"fromAccount": "{sender.id}", "toAccount": "{receiver.id}", '
        f'"amount": {raw_amount}, "idempotencyKey": "{key}"}}'
    )
    return api.post(URL, raw, content_type="application/json")


@pytest.mark.parametrize(
    ("raw", "minor"),
    [
        ("500", 50000),
        ("500.5", 50050),
        ('"500.50"', 50050),
        ('"500"', 50000),
        ("0.01", 1),
        ('"0.01"', 1),
        ("100000000000", 10**13),  # the upper bound is inclusive
        ('"100000000000.00"', 10**13),
        ("0.1", 10),  # not 0.1000000000000000055511151231257827 as a float would make it
    ],
)
def test_accepted_amounts_are_exact_minor_units(api, pair, raw, minor):
    response = _post(api, pair, raw)
    assert response.status_code == 201, response.json()
    assert Transaction.objects.get(idempotency_key="amount-key").amount == minor


@pytest.mark.parametrize(
    "raw",
    [
        "0", '"0"', "0.00", "-1", '"-1"', "-0.01",
        "1e3", "1E3", '"1e3"', "1.5e1", "1e-2",
        '"+5"', '" 5"', '"5 "', '"5."', '".5"', '"5,00"', '"abc"', '""',
        '"1.000"', "1.000", "0.001",
        "true", "false", "null", "[]", "[5]", "{}", '{"value": 5}',
        "100000000000.01", '"100000000000.01"', "1000000000000000000000000",
    ],
)  # fmt: skip
def test_refused_amounts_are_400_and_change_nothing(api, pair, raw):
    response = _post(api, pair, raw)
    assert response.status_code == 400, response.json()
    assert "amount" in response.json()["errors"]
    assert not Transaction.objects.filter(idempotency_key="amount-key").exists()
    assert Account.objects.get(id=pair[1].id).balance == 0


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_400(api, pair, raw):
    response = _post(api, pair, raw)
    assert response.status_code == 400
    assert not Transaction.objects.filter(idempotency_key="amount-key").exists()


def test_jpy_has_no_decimals(api, user, make_account, fund):
    sender, receiver = make_account(user, "JPY"), make_account(user, "JPY")
    fund(sender, "1000")
    data = {"fromAccount": str(sender.id), "toAccount": str(receiver.id), "idempotencyKey": "y"}
    refused = api.post(URL, {**data, "amount": "1.5"}, format="json")
    assert refused.status_code == 400
    ok = api.post(URL, {**data, "amount": 15}, format="json")
    assert ok.status_code == 201
    assert ok.json()["transaction"]["amount"] == "15"


def test_a_float_never_exists_in_the_parsed_request(api, pair):
    from bankledger.core.parsers import DecimalJSONParser

    parsed = DecimalJSONParser().parse(
        __import__("io").BytesIO(json.dumps({"amount": 0.1}).encode()), None, {}
    )
    assert type(parsed["amount"]).__name__ == "Decimal"

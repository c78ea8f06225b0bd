"""GET /api/transactions and /api/transactions/:id: the caller's history, filters, and keyset
pagination that neither repeats nor skips rows when others are inserted between pages."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from ledger.exceptions import InsufficientFunds
from tests.conftest import client_for
from tests.transactions.helpers import transfer
from transactions.models import Transaction

URL = "/api/transactions"


@pytest.fixture
def pair(user, make_account, fund):
    mine, other = make_account(user), make_account(user)
    fund(mine, "1000")
    return mine, other


def _ids(response):
    assert response.status_code == 200, response.json()
    return [tx["_id"] for tx in response.json()["transactions"]]


def _all_pages(client, params, limit):
    seen, cursor, pages = [], None, 0
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get(URL, query).json()
        seen += [tx["_id"] for tx in body["transactions"]]
        cursor, pages = body["nextCursor"], pages + 1
        if cursor is None:
            return seen, pages


def test_history_is_sent_and_received_newest_first(api, user, make_user, make_account, pair):
    mine, _ = pair
    stranger = make_user()
    theirs = make_account(stranger)
    sent = transfer(mine, theirs, "10")
    received = transfer(theirs, mine, "4")
    ids = _ids(api.get(URL))
    assert ids[:2] == [str(received.id), str(sent.id)]
    # The stranger sees the two that touched their account, not the funding of mine.
    assert _ids(client_for(stranger).get(URL)) == [str(received.id), str(sent.id)]


def test_another_users_transactions_are_not_listed(api, make_user, make_account, fund):
    stranger = make_user()
    a, b = make_account(stranger), make_account(stranger)
    fund(a, "10")
    tx = transfer(a, b, "1")
    assert str(tx.id) not in _ids(api.get(URL))


def test_a_failed_transfer_into_my_account_is_not_shown_to_me(api, make_user, make_account, user):
    stranger = make_user()
    theirs, mine = make_account(stranger), make_account(user)
    with pytest.raises(InsufficientFunds) as refused:
        transfer(theirs, mine, "5")
    assert str(refused.value.transaction.id) in _ids(client_for(stranger).get(URL))
    assert str(refused.value.transaction.id) not in _ids(api.get(URL))


def test_filter_by_account(api, user, make_account, pair):
    mine, other = pair
    third = make_account(user)
    to_other = transfer(mine, other, "1")
    to_third = transfer(mine, third, "1")
    assert _ids(api.get(URL, {"account": str(third.id)})) == [str(to_third.id)]
    assert str(to_other.id) in _ids(api.get(URL, {"account": str(other.id)}))


def test_filter_by_someone_elses_account_is_404(api, make_user, make_account):
    theirs = make_account(make_user())
    for account in (str(theirs.id), str(uuid.uuid4()), "not-a-uuid"):
        response = api.get(URL, {"account": account})
        assert response.status_code == 404
        assert response.json()["code"] == "account_not_found"


def test_filter_by_status(api, user, make_account, pair):
    mine, other = pair
    done = transfer(mine, other, "1")
    with pytest.raises(InsufficientFunds) as refused:
        transfer(other, mine, "500")
    failed = refused.value.transaction
    assert _ids(api.get(URL, {"status": "FAILED"})) == [str(failed.id)]
    assert str(done.id) in _ids(api.get(URL, {"status": "COMPLETED"}))
    assert str(failed.id) not in _ids(api.get(URL, {"status": "COMPLETED"}))
    assert api.get(URL, {"status": "LOST"}).status_code == 400


def test_filter_by_time_range(api, pair):
    mine, other = pair
    first = transfer(mine, other, "1")
    between = timezone.now()
    second = transfer(mine, other, "2")
    after = timezone.now()
    third = transfer(mine, other, "3")
    params = {"since": between.isoformat(), "until": after.isoformat()}
    assert _ids(api.get(URL, params)) == [str(second.id)]
    assert _ids(api.get(URL, {"since": after.isoformat()})) == [str(third.id)]
    assert _ids(api.get(URL, {"until": between.isoformat()}))[0] == str(first.id)


def test_bad_query_parameters_are_400(api):
    for params in ({"since": "yesterday"}, {"limit": 0}, {"limit": 101}, {"cursor": "!!!"}):
        response = api.get(URL, params)
        assert response.status_code == 400, params
        assert response.json()["code"] in {"invalid_input", "invalid_cursor"}


def test_a_forged_cursor_is_400(api):
    from bankledger.core.pagination import cursor_encode

    for position in ({"t": "x", "id": "y"}, {"id": 3}, {"t": 1, "id": None}):
        response = api.get(URL, {"cursor": cursor_encode(position)})
        assert response.status_code == 400, position
        assert response.json()["code"] == "invalid_cursor"


def test_pages_have_no_duplicates_and_no_gaps_while_others_insert(api, pair):
    mine, other = pair
    existing = [transfer(mine, other, "1") for _ in range(7)]
    expected = [str(tx.id) for tx in reversed(existing)] + [
        str(Transaction.objects.get(to_account=mine).id)  # the funding
    ]
    seen, cursor = [], None
    while True:
        body = api.get(URL, {"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [tx["_id"] for tx in body["transactions"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
        transfer(mine, other, "1")  # a newer row arrives between pages
        transfer(other, mine, "1")
    assert seen == expected


def test_rows_sharing_a_timestamp_are_paged_exactly_once(api, pair):
    mine, other = pair
    txs = [transfer(mine, other, "1") for _ in range(5)]
    same = timezone.now() - timedelta(days=1)
    Transaction.objects.filter(id__in=[tx.id for tx in txs]).update(created_at=same)
    seen, pages = _all_pages(api, {"until": (same + timedelta(seconds=1)).isoformat()}, 2)
    assert sorted(seen) == sorted(str(tx.id) for tx in txs)
    assert len(seen) == 5 and pages == 3


def test_detail_of_my_transaction(api, pair):
    mine, other = pair
    tx = transfer(mine, other, "12.34")
    response = api.get(f"{URL}/{tx.id}")
    assert response.status_code == 200
    body = response.json()["transaction"]
    assert body["_id"] == str(tx.id) and body["amount"] == "12.34"
    assert body["status"] == "COMPLETED" and body["reversalOf"] is None


def test_detail_of_someone_elses_or_unknown_or_malformed_id_is_404(
    api, make_user, make_account, fund
):
    stranger = make_user()
    a, b = make_account(stranger), make_account(stranger)
    fund(a, "10")
    theirs = transfer(a, b, "1")
    for tx_id in (theirs.id, uuid.uuid4(), "nope", "1' OR '1'='1"):
        response = api.get(f"{URL}/{tx_id}")
        assert response.status_code == 404, tx_id
        assert response.json()["code"] == "transaction_not_found"


def test_system_user_sees_any_transaction(system_api, pair):
    mine, other = pair
    tx = transfer(mine, other, "1")
    assert system_api.get(f"{URL}/{tx.id}").status_code == 200
    assert str(tx.id) in _ids(system_api.get(URL, {"account": str(other.id)}))


def test_post_still_transfers_on_the_same_path(api, pair):
    mine, other = pair
    body = {
        "fromAccount": str(mine.id),
        "toAccount": str(other.id),
        "amount": "1",
        "idempotencyKey": "p",
    }
    assert api.post(URL, body, format="json").status_code == 201
    assert len(_ids(api.get(URL))) == 2


def test_history_needs_a_token(client_anon):
    assert client_anon.get(URL).status_code == 401

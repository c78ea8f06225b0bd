"""Insecure direct object references: every endpoint that takes an id is tried with another
user's id and with a system user's id, and must neither answer with their data nor change it.

Adding an endpoint is one line in PROBES; `test_every_route_with_an_id_is_probed` fails until
that line exists."""

from dataclasses import dataclass
from typing import Any

import pytest

from accounts.models import Account
from bankledger.events.models import Webhook
from bankledger.events.services import events_sequence
from bankledger.events.webhooks import webhook_create
from ledger.models import Hold
from tests.conftest import client_for
from tests.holds.helpers import hold
from tests.routes import api_routes
from tests.security.responses import assert_clean_refusal
from transactions.models import Transaction
from users.models import ApiKey
from users.services import api_key_create


@dataclass(frozen=True)
class Target:
    """The ids an attacker aims at, and the attacker's own account (for request bodies)."""

    account: str
    transaction: str
    empty_account: str  # a zero-balance account of the victim: closing it would succeed
    own_account: str
    webhook: str = ""
    key: str = ""
    hold: str = ""


@dataclass(frozen=True)
class Probe:
    route: str  # the route as the schema spells it, to match it against the URL table
    method: str
    path: str  # formatted with the Target's fields
    body: dict[str, Any] | None = None
    refused: tuple[int, ...] = (403, 404)

    def send(self, client, target: Target):
        fields = vars(target)
        body = {k: v.format(**fields) for k, v in (self.body or {}).items()}
        return getattr(client, self.method.lower())(
            self.path.format(**fields), body or None, format="json"
        )


PROBES = [
    Probe("/api/accounts/balance/{account_id}", "GET", "/api/accounts/balance/{account}"),
    Probe(
        "/api/transactions",
        "POST",
        "/api/transactions",
        {
            "fromAccount": "{account}",
            "toAccount": "{own_account}",
            "amount": "1.00",
            "idempotencyKey": "idor-{account}",
        },
        refused=(403,),
    ),
    Probe("/api/accounts/{account_id}/statement", "GET", "/api/accounts/{account}/statement"),
    Probe("/api/accounts/{account_id}/freeze", "POST", "/api/accounts/{account}/freeze"),
    Probe("/api/accounts/{account_id}/unfreeze", "POST", "/api/accounts/{account}/unfreeze"),
    Probe("/api/accounts/{account_id}/close", "POST", "/api/accounts/{empty_account}/close"),
    Probe("/api/transactions/{transaction_id}", "GET", "/api/transactions/{transaction}"),
    Probe(
        "/api/transactions/{transaction_id}/reverse",
        "POST",
        "/api/transactions/{transaction}/reverse",
        {"idempotencyKey": "idor-reverse", "reason": "not mine"},
    ),
    Probe("/api/webhooks/{webhook_id}", "DELETE", "/api/webhooks/{webhook}"),
    Probe("/api/auth/keys/{key_id}", "DELETE", "/api/auth/keys/{key}"),
    Probe(
        "/api/transactions/{transaction_id}/receipt",
        "GET",
        "/api/transactions/{transaction}/receipt",
    ),
    Probe(
        "/api/transactions/{transaction_id}/proof", "GET", "/api/transactions/{transaction}/proof"
    ),
]
PROBES += [
    Probe("/api/accounts/{account_id}/limits", "GET", "/api/accounts/{account}/limits"),
    Probe(
        "/api/accounts/{account_id}/limits",
        "PUT",
        "/api/accounts/{account}/limits",
        {"overdraftLimit": "1000000.00", "reason": "mine now"},
    ),
    Probe(
        "/api/holds",
        "POST",
        "/api/holds",
        {
            "fromAccount": "{account}",
            "toAccount": "{own_account}",
            "amount": "1.00",
            "idempotencyKey": "idor-hold-{account}",
        },
        refused=(403,),
    ),
    Probe("/api/holds/{hold_id}", "GET", "/api/holds/{hold}"),
    Probe(
        "/api/holds/{hold_id}/capture",
        "POST",
        "/api/holds/{hold}/capture",
        {"idempotencyKey": "idor-capture"},
    ),
    Probe("/api/holds/{hold_id}/void", "POST", "/api/holds/{hold}/void", {"idempotencyKey": "v"}),
]
# Routes with a parameter that names nobody's data: the public log, served to anyone.
PUBLIC = {"/api/log/checkpoints/{tree_size}"}


@pytest.fixture
def victims(make_user, make_account, fund, system_user):
    """Another user's funded account, a transfer of theirs and an empty account; the same for
    the system user, whose funding account is the one allowed below zero (stealing from it would
    mint money)."""
    other = make_user()
    account, spare = make_account(other), make_account(other)
    fund(account, "500.00")
    client_for(other).post(
        "/api/transactions",
        {
            "fromAccount": str(account.id),
            "toAccount": str(spare.id),
            "amount": "1.00",
            "idempotencyKey": "victim-transfer",
        },
        format="json",
    )
    funding = Account.objects.get(user=system_user, is_funding=True)
    return {
        "other-user": (
            account,
            Transaction.objects.get(idempotency_key="victim-transfer"),
            make_account(other),
            *_webhook_and_key(other),
            hold(account, spare, "2.00"),
        ),
        "system-user": (
            funding,
            Transaction.objects.filter(from_account=funding).first(),
            make_account(system_user),
            *_webhook_and_key(system_user),
            hold(funding, make_account(system_user), "2.00"),
        ),
    }


def _webhook_and_key(owner):
    webhook = webhook_create(owner=owner, url="https://93.184.216.34/hook")
    key, _secret = api_key_create(user=owner, name="victim", scopes=["accounts:read"])
    return webhook, key


def _snapshot():
    return (
        list(Account.objects.order_by("id").values_list("id", "balance", "status")),
        list(Transaction.objects.order_by("id").values_list("id", "status")),
        list(Webhook.objects.order_by("id").values_list("id", "active", "deleted_at")),
        list(ApiKey.objects.order_by("id").values_list("id", "revoked_at")),
        list(Hold.objects.order_by("id").values_list("id", "status")),
        list(Account.objects.order_by("id").values_list("overdraft_limit", flat=True)),
    )


@pytest.mark.parametrize("whose", ["other-user", "system-user"])
@pytest.mark.parametrize("probe", PROBES, ids=lambda p: f"{p.method} {p.route}")
def test_someone_elses_id_is_refused_and_changes_nothing(
    probe, whose, victims, user, make_account, fund
):
    own = make_account(user)
    fund(own, "10.00")
    account, transaction, empty, webhook, key, victim_hold = victims[whose]
    target = Target(
        str(account.id),
        str(transaction.id),
        str(empty.id),
        str(own.id),
        str(webhook.id),
        str(key.id),
        str(victim_hold.id),
    )
    before = _snapshot()

    response = probe.send(client_for(user), target)

    assert response.status_code in probe.refused, response.content
    assert_clean_refusal(response)
    assert str(account.user_id) not in response.content.decode()
    assert _snapshot() == before


@pytest.mark.parametrize("path", ["/api/events", "/api/webhooks", "/api/auth/keys", "/api/holds"])
def test_lists_show_nothing_of_anyone_else(path, victims, user):
    events_sequence()
    response = client_for(user).get(path)

    assert response.status_code == 200
    body = response.content.decode()
    for account, transaction, _empty, webhook, key, victim_hold in victims.values():
        secrets = (account.user_id, account.id, transaction.id, webhook.id, key.id, victim_hold.id)
        for secret in secrets:
            assert str(secret) not in body


def test_every_route_with_an_id_is_probed():
    with_ids = {route for route, _ in api_routes() if "{" in route}
    probed = {probe.route for probe in PROBES} | PUBLIC
    assert with_ids and with_ids <= probed, f"add a line to PROBES for: {sorted(with_ids - probed)}"


# Calls only a system user may make, tried by an ordinary user on their own account and
# transaction (vertical escalation): each must be a 403 and change nothing.
SYSTEM_ONLY = [
    Probe("", "PUT", "/api/accounts/{own_account}/limits", {"overdraftLimit": "1000000.00"}),
    Probe("", "POST", "/api/accounts/{own_account}/freeze"),
    Probe("", "POST", "/api/accounts/{own_account}/unfreeze"),
    Probe(
        "",
        "POST",
        "/api/transactions/{transaction}/reverse",
        {"idempotencyKey": "self-reverse", "reason": "undo my own payment"},
    ),
    Probe(
        "",
        "POST",
        "/api/transactions/system/initial-funds",
        {"toAccount": "{own_account}", "amount": "1000000.00", "idempotencyKey": "mint"},
    ),
]


@pytest.mark.parametrize("probe", SYSTEM_ONLY, ids=lambda p: p.path)
def test_system_only_calls_are_refused_to_an_ordinary_user(probe, user, make_account, fund):
    own, other = make_account(user), make_account(user)
    fund(own, "10.00")
    client = client_for(user)
    paid = client.post(
        "/api/transactions",
        {
            "fromAccount": str(own.id),
            "toAccount": str(other.id),
            "amount": "1",
            "idempotencyKey": "p",
        },
        format="json",
    )
    target = Target(str(own.id), paid.json()["transaction"]["_id"], str(other.id), str(own.id))
    before = _snapshot()

    response = probe.send(client, target)

    assert response.status_code == 403, response.content
    assert_clean_refusal(response)
    assert _snapshot() == before

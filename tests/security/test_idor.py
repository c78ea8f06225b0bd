"""Insecure direct object references: every endpoint that takes an id is tried with another
user's id and with a system user's id, and must neither answer with their data nor change it.

Adding an endpoint is one line in PROBES; `test_every_route_with_an_id_is_probed` fails until
that line exists."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Account
from tests.conftest import client_for
from tests.security.responses import assert_clean_refusal
from transactions.models import Transaction


@dataclass(frozen=True)
class Target:
    """The ids an attacker aims at, and the attacker's own account (for request bodies)."""

    account: str
    transaction: str
    own_account: str


@dataclass(frozen=True)
class Probe:
    route: str  # the URL pattern as Django prints it, to match it against the resolver
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
    Probe("api/accounts/balance/<str:account_id>", "GET", "/api/accounts/balance/{account}"),
    Probe(
        "api/transactions",
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
]


@pytest.fixture
def victims(make_user, make_account, fund, system_user):
    """A funded account with a transfer of another user, and the system user's funding account
    (the one account allowed below zero: stealing from it would mint money)."""
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
        "other-user": (account, Transaction.objects.get(idempotency_key="victim-transfer")),
        "system-user": (funding, Transaction.objects.filter(from_account=funding).first()),
    }


def _snapshot():
    return (
        list(Account.objects.order_by("id").values_list("id", "balance", "status")),
        list(Transaction.objects.order_by("id").values_list("id", "status")),
    )


@pytest.mark.parametrize("whose", ["other-user", "system-user"])
@pytest.mark.parametrize("probe", PROBES, ids=lambda p: f"{p.method} {p.route}")
def test_someone_elses_id_is_refused_and_changes_nothing(
    probe, whose, victims, user, make_account, fund
):
    own = make_account(user)
    fund(own, "10.00")
    account, transaction = victims[whose]
    target = Target(str(account.id), str(transaction.id), str(own.id))
    before = _snapshot()

    response = probe.send(client_for(user), target)

    assert response.status_code in probe.refused, response.content
    assert_clean_refusal(response)
    assert str(account.user_id) not in response.content.decode()
    assert _snapshot() == before


def _routes(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def test_every_route_with_an_id_is_probed():
    with_ids = {
        r for r in _routes(get_resolver().url_patterns) if r.startswith("api/") and "<" in r
    }
    probed = {probe.route for probe in PROBES}
    assert with_ids <= probed, f"add a line to PROBES for: {sorted(with_ids - probed)}"

"""Model-based test: Hypothesis drives the real API (test client, the suite's database) through
random sequences of register, open account, fund, transfer, replay, reverse, freeze, unfreeze,
close, and hold, capture and void, and checks every answer against `LedgerModel`. After every
step every balance, account status, transaction status and hold status in the database must
equal the model's, and `verify_ledger` must pass. Each sequence runs in a savepoint rolled
back at its end.

Size: `MODEL_EXAMPLES` sequences of at most `MODEL_STEPS` steps (CI: 15 x 25; `make fuzz`
runs more). One rule per capability: to add limits or batches, add the model's method
in `ledger_model.py` and one `@rule` here."""

import itertools
import os
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from rest_framework.test import APIClient

from accounts.models import Account
from accounts.services import system_user_create
from ledger.models import Hold
from tests.conftest import PASSWORD
from tests.flows.ledger_model import (
    ACTIVE,
    CAPTURE,
    CLOSED,
    EXPONENTS,
    FROZEN,
    INITIAL_FUNDS,
    REVERSAL,
    TRANSFER,
    Answer,
    LedgerModel,
    Tx,
    major,
)
from transactions.models import Transaction
from users.services import token_issue

EXAMPLES = int(os.environ.get("MODEL_EXAMPLES", 15))
STEPS = int(os.environ.get("MODEL_STEPS", 25))
_names = itertools.count()

amounts = st.integers(min_value=1, max_value=50_000)
currencies = st.sampled_from(sorted(EXPONENTS))


class LedgerMachine(RuleBasedStateMachine):
    users = Bundle("users")
    accounts = Bundle("accounts")
    money_requests = Bundle("money_requests")  # (user, path, body, answer, transaction id)
    holds = Bundle("holds")

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        system = system_user_create(email=f"system{next(_names)}@model.example", password=PASSWORD)
        self.system = str(system.id)
        self.clients = {self.system: self._client(token_issue(user=system))}
        self.model = LedgerModel(self.system)
        for account in Account.objects.filter(user=system):
            self.model.account_opened(str(account.id), self.system, account.currency, True)

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    @staticmethod
    def _client(token: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    def _post(self, user: str, path: str, body: dict, expected: Answer):
        response = self.clients[user].post(path, body, format="json")
        reply = response.json()
        assert (response.status_code, reply.get("code", "")) == (
            expected.status,
            expected.code,
        ), reply
        return reply

    # --- users and accounts ------------------------------------------------------------

    @rule(target=users)
    def register(self):
        n = next(_names)
        response = APIClient().post(
            "/api/auth/register",
            {"name": f"User {n}", "email": f"user{n}@model.example", "password": PASSWORD},
            format="json",
        )
        assert response.status_code == 201, response.json()
        user = response.json()["user"]["_id"]
        self.clients[user] = self._client(response.json()["token"])
        return user

    @rule(target=accounts, user=users, currency=currencies)
    def open_account(self, user, currency):
        reply = self._post(user, "/api/accounts", {"currency": currency}, Answer(201))
        account = reply["account"]["_id"]
        self.model.account_opened(account, user, currency)
        return account

    def _status_change(self, account: str, action: str, to: str, actor: str) -> None:
        expected = self.model.status_change(account, to=to, actor=actor)
        self._post(actor, f"/api/accounts/{account}/{action}", {"reason": "model"}, expected)
        self.model.status_changed(account, to=to, answer=expected)

    @rule(account=accounts)
    def freeze(self, account):
        self._status_change(account, "freeze", FROZEN, self.system)

    @rule(account=accounts)
    def unfreeze(self, account):
        self._status_change(account, "unfreeze", ACTIVE, self.system)

    @rule(account=accounts, by_system=st.booleans())
    def close(self, account, by_system):
        actor = self.system if by_system else self.model.accounts[account].owner
        self._status_change(account, "close", CLOSED, actor)

    # --- money ---------------------------------------------------------------------------

    def _money(self, user, path, body, expected, tx: Tx, reversal_of=None):
        """Send a money request, check its answer, apply it to the model; the request (with
        its transaction's id, None when nothing was recorded) is kept for replays."""
        reply = self._post(user, path, body, expected)
        tx_id = None
        if expected.recorded:
            tx_id = tx.id = reply["transaction"]["_id"]
            tx.sender = tx.sender or reply["transaction"]["fromAccount"]
            if tx.sender not in self.model.accounts:  # a funding account opened on first use
                currency = self.model.accounts[tx.receiver].currency
                self.model.account_opened(tx.sender, self.system, currency, funding=True)
            self.model.posted(tx, expected, reversal_of=reversal_of)
        return (user, path, body, expected, tx_id)

    @rule(target=money_requests, account=accounts, amount=amounts)
    def fund(self, account, amount):
        currency = self.model.accounts[account].currency
        expected = self.model.fund(receiver=account, amount=amount)
        body = {"toAccount": account, "amount": major(amount, currency), "idempotencyKey": _key()}
        tx = Tx("", INITIAL_FUNDS, "", account, amount, "")
        return self._money(
            self.system, "/api/transactions/system/initial-funds", body, expected, tx
        )

    @rule(
        target=money_requests,
        sender=accounts,
        receiver=accounts,
        amount=amounts,
        as_owner=st.booleans(),
        stranger=users,
    )
    def transfer(self, sender, receiver, amount, as_owner, stranger):
        initiator = self.model.accounts[sender].owner if as_owner else stranger
        expected = self.model.transfer(
            initiator=initiator, sender=sender, receiver=receiver, amount=amount
        )
        currency = self.model.accounts[sender].currency
        body = {
            "fromAccount": sender,
            "toAccount": receiver,
            "amount": major(amount, currency),
            "idempotencyKey": _key(),
        }
        tx = Tx("", TRANSFER, sender, receiver, amount, "")
        return self._money(initiator, "/api/transactions", body, expected, tx)

    @rule(target=money_requests, request=money_requests)
    def reverse(self, request):
        """A system user reverses the transaction an earlier request recorded."""
        tx_id = request[-1]
        if tx_id is None:
            return multiple()
        original = self.model.txs[tx_id]
        expected = self.model.reverse(tx_id=tx_id)
        body = {"idempotencyKey": _key(), "reason": "model"}
        tx = Tx("", REVERSAL, original.receiver, original.sender, original.amount, "")
        path = f"/api/transactions/{tx_id}/reverse"
        return self._money(self.system, path, body, expected, tx, reversal_of=tx_id)

    # --- holds ---------------------------------------------------------------------------

    @rule(
        target=holds,
        payer=accounts,
        data=st.data(),
        percent=st.integers(min_value=1, max_value=120),
        as_owner=st.booleans(),
        stranger=users,
    )
    def hold(self, payer, data, percent, as_owner, stranger):
        """A share of what the payer has available (more than all of it, sometimes), for
        another account of its currency: a payer without money is funded first and one without
        such an account gets one, or the holds would seldom be PENDING."""
        owner, currency = self.model.accounts[payer].owner, self.model.accounts[payer].currency
        if self.model.accounts[payer].balance - self.model.held(payer) <= 0:
            self.fund(payer, 10_000)
        others = sorted(
            a.id
            for a in self.model.accounts.values()
            if not a.funding and a.currency == currency and a.id != payer
        )
        payee = data.draw(st.sampled_from(others)) if others else self.open_account(owner, currency)
        available = self.model.accounts[payer].balance - self.model.held(payer)
        amount = max(1, available * percent // 100)
        initiator = self.model.accounts[payer].owner if as_owner else stranger
        expected = self.model.hold(initiator=initiator, payer=payer, payee=payee, amount=amount)
        body = {
            "fromAccount": payer,
            "toAccount": payee,
            "amount": major(amount, currency),
            "idempotencyKey": _key(),
        }
        reply = self._post(initiator, "/api/holds", body, expected)
        if not expected.recorded:
            return multiple()
        hold_id = reply["hold"]["_id"]
        self.model.hold_made(hold_id, payer, payee, amount, expected)
        return hold_id

    @rule(target=money_requests, hold=holds, percent=st.integers(min_value=1, max_value=120))
    def capture(self, hold, percent):
        """A system user captures part of the hold, all of it, or more than it."""
        held = self.model.holds[hold]
        amount = max(1, held.amount * percent // 100)
        expected = self.model.capture(hold_id=hold, amount=amount)
        currency = self.model.accounts[held.payer].currency
        body = {"idempotencyKey": _key(), "amount": major(amount, currency)}
        tx = Tx("", CAPTURE, held.payer, held.payee, amount, "")
        request = self._money(self.system, f"/api/holds/{hold}/capture", body, expected, tx)
        self.model.captured(hold, expected)
        return request

    @rule(hold=holds, by_system=st.booleans())
    def void(self, hold, by_system):
        """A system user voids it, or the payer's owner tries to."""
        actor = (
            self.system if by_system else self.model.accounts[self.model.holds[hold].payer].owner
        )
        expected = self.model.void(hold_id=hold, actor=actor)
        self._post(actor, f"/api/holds/{hold}/void", {"idempotencyKey": _key()}, expected)
        self.model.voided(hold, expected)

    @rule(request=money_requests)
    def replay(self, request):
        """The same request again, same key and body: the first answer, and the transaction's
        current status."""
        user, path, body, answer, tx_id = request
        reply = self._post(user, path, body, self.model.replayed(answer))
        if tx_id is not None:
            assert reply["transaction"]["_id"] == tx_id
            assert reply["transaction"]["status"] == self.model.txs[tx_id].status

    # --- after every step ----------------------------------------------------------------

    @invariant()
    def balances_and_statuses_match_the_model(self):
        stored = {
            str(a["id"]): (a["balance"], a["status"])
            for a in Account.objects.filter(id__in=list(self.model.accounts)).values(
                "id", "balance", "status"
            )
        }
        expected = {a.id: (a.balance, a.status) for a in self.model.accounts.values()}
        assert stored == expected

    @invariant()
    def transactions_match_the_model(self):
        stored = dict(
            Transaction.objects.filter(id__in=list(self.model.txs)).values_list("id", "status")
        )
        assert {str(k): v for k, v in stored.items()} == {
            t.id: t.status for t in self.model.txs.values()
        }
        assert Transaction.objects.count() == len(self.model.txs)

    @invariant()
    def holds_match_the_model(self):
        stored = {str(k): v for k, v in Hold.objects.values_list("id", "status")}
        assert stored == {h.id: h.status for h in self.model.holds.values()}

    @invariant()
    def ledger_verifies(self):
        call_command("verify_ledger", stdout=StringIO())


def _key() -> str:
    return f"model-{uuid.uuid4()}"


@pytest.mark.django_db
def test_the_api_behaves_like_the_model():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )

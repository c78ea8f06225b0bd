"""Read replicas on a real streaming replica: a throwaway primary and a `pg_basebackup -R`
standby of it on loopback, the app under gunicorn reading from the standby. Replay on the
standby is paused with `pg_wal_replay_pause()`, so a read served by it visibly lags: that
proves which reads it serves. The standby logs every statement it runs: no write and no
locked read may appear there.

Runs in the PostgreSQL pass (DATABASE_URL names PostgreSQL) with the server's binaries
installed; it never touches the shared server."""

import os
import re
from datetime import UTC, datetime

import httpx
import pytest

from tests.chaos.app import App, production_env, wait_for_http
from tests.chaos.clients import PASSWORD
from tests.chaos.postgres import Postgres, free_port, pg_bin, wait_until

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the replica test runs in the PostgreSQL pass",
)

DATABASE = "replicas"


def _caught_up(primary: Postgres, standby: Postgres) -> bool:
    [(target,)] = primary.sql("SELECT pg_current_wal_lsn()::text")
    [(behind,)] = standby.sql(f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn())")
    return behind <= 0


class Client:
    def __init__(self, base: str, token: str = ""):
        self.http = httpx.Client(base_url=base, timeout=30.0)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params) -> httpx.Response:
        return self.http.get(path, params=params, headers=self.headers).raise_for_status()

    def post(self, path: str, body: dict) -> httpx.Response:
        return self.http.post(path, json=body, headers=self.headers).raise_for_status()


@pytest.fixture(scope="module")
def cluster():
    """A primary and its standby (replay running), the app reading from the standby, a system
    user, and nobody pinned to the primary."""
    pg_bin()  # no server binaries: fail here, loudly
    primary = Postgres(free_port(), database=DATABASE, prefix="bankledger-primary-")
    standby = Postgres(free_port(), database=DATABASE, prefix="bankledger-standby-")
    env = production_env(
        primary.url,
        DATABASE_REPLICA_URLS=standby.url,
        # Long enough that the pin of a user who wrote never lapses during the test.
        REPLICA_PIN_SECONDS="600",
    )
    app = App(env, free_port(), workers=2, logfile=primary.dir / "gunicorn.log")
    try:
        primary.init()
        primary.start()
        primary.sql(f"CREATE DATABASE {DATABASE}")
        app.manage("migrate", "--noinput")
        app.manage(
            "create_system_user", "--email", "system@replica.example", "--password", PASSWORD
        )
        standby.clone(primary)
        standby.start("log_statement=all")
        app.start()
        assert wait_for_http(app.base, timeout=30), app.log_tail()
        yield primary, standby, app
    finally:
        app.stop()
        standby.remove()
        primary.remove()


def _register(base: str, name: str) -> tuple[Client, str]:
    reply = Client(base).post(
        "/api/auth/register",
        {"name": name, "email": f"{name}@replica.example", "password": PASSWORD},
    )
    client = Client(base, reply.json()["token"])
    account = client.post("/api/accounts", {}).json()["account"]["_id"]
    return client, account


def _statement(client: Client, account: str) -> list[str]:
    return [e["type"] for e in client.get(f"/api/accounts/{account}/statement").json()["entries"]]


def test_lag_tolerant_reads_come_from_the_replica_and_writers_read_their_writes(cluster):
    primary, standby, app = cluster
    system = Client(app.base)
    system_token = system.post(
        "/api/auth/login", {"email": "system@replica.example", "password": PASSWORD}
    ).json()["token"]
    system = Client(app.base, system_token)
    writer, sender = _register(app.base, "writer")
    observer, receiver = _register(app.base, "observer")
    system.post(
        "/api/transactions/system/initial-funds",
        {"toAccount": sender, "amount": "100", "idempotencyKey": "seed"},
    )
    primary.sql("DELETE FROM bankledger_cache", DATABASE)  # nobody is pinned from here on
    assert wait_until(lambda: _caught_up(primary, standby), timeout=30)
    standby.sql("SELECT pg_wal_replay_pause()")
    assert wait_until(
        lambda: standby.sql("SELECT pg_get_wal_replay_pause_state()") == [("paused",)], 30
    )

    # Written on the primary while the standby replays nothing: locks and writes never touch it.
    writer.post(
        "/api/transactions",
        {"fromAccount": sender, "toAccount": receiver, "amount": "30", "idempotencyKey": "t1"},
    )
    now = datetime.now(UTC).isoformat()

    # The observer never wrote: the balance comes from the primary, the rest lags.
    assert observer.get(f"/api/accounts/balance/{receiver}").json()["balance"] == "30.00"
    assert _statement(observer, receiver) == []
    csv = observer.get(f"/api/accounts/{receiver}/statement", format="csv").text
    assert csv.strip().splitlines() == [csv.splitlines()[0]]  # the header only
    assert observer.get("/api/transactions", account=receiver).json()["transactions"] == []
    as_of = observer.get(f"/api/accounts/balance/{receiver}", asOf=now).json()
    assert as_of["balance"] == "0.00"

    # The writer, pinned after its write, reads it back at once.
    assert _statement(writer, sender) == ["CREDIT", "DEBIT"]
    history = writer.get("/api/transactions", account=sender).json()["transactions"]
    assert [t["idempotencyKey"] for t in history if t["kind"] == "TRANSFER"] == ["t1"]
    assert writer.get(f"/api/accounts/balance/{sender}", asOf=now).json()["balance"] == "70.00"

    standby.sql("SELECT pg_wal_replay_resume()")
    assert wait_until(lambda: _caught_up(primary, standby), timeout=30)
    assert _statement(observer, receiver) == ["CREDIT"]
    assert observer.get(f"/api/accounts/balance/{receiver}", asOf=now).json()["balance"] == "30.00"

    # A simple-protocol statement is logged as "statement: ...", a bound one as "execute ...".
    logged = re.compile(r"LOG:  (?:statement|execute [^:]*): (.*)")
    statements = [
        found.group(1)
        for line in standby.logfile.read_text().splitlines()
        if (found := logged.search(line))
    ]
    assert any("ledger_ledgerentry" in s for s in statements), "no read reached the replica"
    assert any("transactions_transaction" in s for s in statements)
    writes = re.compile(r"\b(INSERT|UPDATE|DELETE|FOR UPDATE|FOR SHARE)\b", re.IGNORECASE)
    assert [s for s in statements if writes.search(s)] == []

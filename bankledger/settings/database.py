"""The database, chosen by `DATABASE_URL`: an SQLite file by default, PostgreSQL in production,
with optional read replicas (`DATABASE_REPLICA_URLS`, see `bankledger.core.replicas`)."""

from django.core.exceptions import ImproperlyConfigured

from .base import MIDDLEWARE
from .environment import BASE_DIR, env

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}


def _postgresql(database: dict) -> dict:
    database.setdefault("OPTIONS", {})
    # A database that is down must answer 503 within seconds, not hang a worker.
    database["OPTIONS"].setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
    # A database that stops answering mid-query frees the worker with a 503 after this many
    # seconds (0: no limit). verify_ledger and the benchmarks lift it for their long queries.
    timeout_ms = int(env.float("DATABASE_STATEMENT_TIMEOUT", default=5) * 1000)
    database["OPTIONS"]["options"] = (
        database["OPTIONS"].get("options", "") + f" -c statement_timeout={timeout_ms}"
    ).strip()
    # Statements bound and prepared on the server: psycopg prepares a statement the fifth time
    # (DATABASE_PREPARE_THRESHOLD) a connection runs it, so PostgreSQL parses and plans the hot
    # path's statements once per connection, not on every request. A pooler in transaction mode
    # (PgBouncer) needs its max_prepared_statements set, or DATABASE_PREPARED_STATEMENTS=false:
    # parameters bound on the client, nothing prepared (README, Deployment).
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        database["OPTIONS"]["server_side_binding"] = True
        database["OPTIONS"]["prepare_threshold"] = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
    database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # No `SELECT 1` round trip before every request: a connection that fails (the database
    # restarted, its backend was terminated) fails that one request with a 503, and Django
    # closes it when the request ends (it checks a connection after any error but a data or
    # integrity error), so the next request connects again (tests/bankledger/
    # test_connection_recovery.py; `make chaos` restarts the database under load).
    database["CONN_HEALTH_CHECKS"] = False
    return database


_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so
    # two transfers never both read a balance and then race to upgrade their locks. FULL syncs
    # the WAL at every commit, so an acknowledged transfer survives a power loss; NORMAL is
    # faster but may lose the last commits (README, Configuration).
    _synchronous = env("SQLITE_SYNCHRONOUS", default="FULL").upper()
    if _synchronous not in {"FULL", "NORMAL", "EXTRA"}:
        raise ImproperlyConfigured("SQLITE_SYNCHRONOUS must be FULL, NORMAL or EXTRA.")
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
        "init_command": f"PRAGMA journal_mode=WAL; PRAGMA synchronous={_synchronous};",
    }
    # A real file for the test database too: threads in the concurrency tests need to share it.
    _db["TEST"] = {"NAME": str(BASE_DIR / env("TEST_DATABASE_NAME", default="test_db.sqlite3"))}
else:
    # DATABASE_URL may list several hosts (libpq's multi-host form, e.g.
    # `postgres://u@h1:5432,h2:5432/db?target_session_attrs=read-write`): libpq tries each in
    # turn and keeps the one that takes writes, so a failover needs no change here.
    _postgresql(_db)
    if env("TEST_DATABASE_NAME", default=""):
        _db["TEST"] = {"NAME": env("TEST_DATABASE_NAME")}

# Streaming replicas for the reads that tolerate lag, `replica1`, `replica2`, ... The test
# runner points them at the test database instead of creating their own.
REPLICA_DATABASES = []
for _number, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    _alias = f"replica{_number}"
    DATABASES[_alias] = {**_postgresql(env.db_url_config(_url)), "TEST": {"MIRROR": "default"}}
    REPLICA_DATABASES.append(_alias)
# Seconds a user who wrote reads only from the primary, so they see their own writes.
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=5)
if REPLICA_DATABASES:
    DATABASE_ROUTERS = ["bankledger.core.replicas.ReplicaRouter"]
    MIDDLEWARE = [*MIDDLEWARE, "bankledger.core.replicas.ReplicaPinMiddleware"]

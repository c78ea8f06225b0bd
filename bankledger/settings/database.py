"""The database, chosen by `DATABASE_URL`: an SQLite file by default, PostgreSQL in production."""

from django.core.exceptions import ImproperlyConfigured

from .environment import BASE_DIR, env

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}

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
    _db.setdefault("OPTIONS", {})
    # A database that is down must answer 503 within seconds, not hang a worker.
    _db["OPTIONS"].setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3))
    # A database that stops answering mid-query frees the worker with a 503 after this many
    # seconds (0: no limit). verify_ledger and the benchmarks lift it for their long queries.
    _timeout_ms = int(env.float("DATABASE_STATEMENT_TIMEOUT", default=5) * 1000)
    _db["OPTIONS"]["options"] = (
        _db["OPTIONS"].get("options", "") + f" -c statement_timeout={_timeout_ms}"
    ).strip()
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
    if env("TEST_DATABASE_NAME", default=""):
        _db["TEST"] = {"NAME": env("TEST_DATABASE_NAME")}

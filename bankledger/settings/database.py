"""The database, chosen by `DATABASE_URL`: an SQLite file by default, PostgreSQL in production."""

from .environment import BASE_DIR, env

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}

_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so
    # two transfers never both read a balance and then race to upgrade their locks.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A real file for the test database too: threads in the concurrency tests need to share it.
    _db["TEST"] = {"NAME": str(BASE_DIR / env("TEST_DATABASE_NAME", default="test_db.sqlite3"))}
else:
    _db.setdefault("OPTIONS", {})
    # A database that is down must answer 503 within seconds, not hang a worker.
    _db["OPTIONS"].setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3))
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
    if env("TEST_DATABASE_NAME", default=""):
        _db["TEST"] = {"NAME": env("TEST_DATABASE_NAME")}

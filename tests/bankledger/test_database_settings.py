"""Durable and bounded by default: SQLite syncs every commit, PostgreSQL statements time out."""

import os
import subprocess
import sys
import threading

import pytest
from django.db import connection, connections

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL setting"
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="an SQLite setting")
_PRINT_OPTIONS = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DATABASES['default']['OPTIONS']['options'])"
)


@sqlite_only
@pytest.mark.django_db
def test_sqlite_syncs_every_commit_by_default():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL


def test_postgresql_statements_time_out_after_5_seconds_by_default():
    environment = {
        key: value for key, value in os.environ.items() if key != "DATABASE_STATEMENT_TIMEOUT"
    }
    environment["DATABASE_URL"] = "postgres://user@127.0.0.1:5432/any"
    shown = subprocess.run(
        [sys.executable, "-c", _PRINT_OPTIONS], env=environment, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert "-c statement_timeout=5000" in shown.stdout


@postgresql_only
@pytest.mark.django_db
def test_the_configured_statement_timeout_reaches_every_connection():
    configured = f"{os.environ['DATABASE_STATEMENT_TIMEOUT']}s"
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        shown = cursor.fetchone()[0]
        cursor.execute("SELECT %s::interval = %s::interval", [shown, configured])
        assert cursor.fetchone()[0], (shown, configured)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_statement_that_hangs_frees_the_worker_with_a_503(api, user, make_account, fund):
    source, target = make_account(user), make_account(user)
    fund(source, "10.00")
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        other = connections.create_connection("default")
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT 1 FROM accounts_account WHERE id = %s FOR UPDATE", [source.id])
            locked.set()
            release.wait(10)
            cursor.execute("ROLLBACK")
        other.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 200")
        body = {
            "fromAccount": str(source.id),
            "toAccount": str(target.id),
            "amount": "1.00",
            "idempotencyKey": "hung",
        }
        response = api.post("/api/transactions", body, format="json")
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = DEFAULT")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    source.refresh_from_db()
    assert source.balance == 10_00

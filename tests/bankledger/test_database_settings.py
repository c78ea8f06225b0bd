"""Durable and bounded by default: SQLite syncs every commit, PostgreSQL statements time out."""

import threading

import pytest
from django.db import connection, connections

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL setting"
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="an SQLite setting")


@sqlite_only
@pytest.mark.django_db
def test_sqlite_syncs_every_commit_by_default():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL


@postgresql_only
@pytest.mark.django_db
def test_postgresql_statements_have_a_timeout_by_default():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "5s"


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

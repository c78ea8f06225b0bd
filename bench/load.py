"""The load generators: wrk against the HTTP API, pgbench for the raw-SQL yardstick, and the
in-process comparison (the transfer service against a plain psycopg loop, 8 threads each)."""

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

from bench.common import YARDSTICK_DIR, BenchError, PgServer, SeededAccount, percentile

LUA_SCRIPT = Path(__file__).with_name("transfer.lua")
BATCH_SCRIPT = Path(__file__).with_name("batch.lua")


def write_accounts_file(accounts: list[SeededAccount], path: Path) -> Path:
    path.write_text("".join(f"{a.account_id} {a.token}\n" for a in accounts))
    return path


def wrk(*, port: int, accounts_file: Path, mix: str, clients: int, seconds: int, label: str):
    """One closed-loop wrk run of single transfers: `clients` connections, each waiting for
    its answer."""
    return _wrk(LUA_SCRIPT, port, clients, seconds, [str(accounts_file), mix, label])


def wrk_batches(
    *, port: int, accounts_file: Path, size: int, clients: int, seconds: int, label: str
):
    """One closed-loop wrk run of `POST /transactions/batch` with `size` items per batch;
    `transfers_per_s` counts items, `batches_per_s` requests."""
    result = _wrk(BATCH_SCRIPT, port, clients, seconds, [str(accounts_file), str(size), label])
    result["batches_per_s"] = result["transfers_per_s"]
    result["transfers_per_s"] = round(result["transfers_per_s"] * size, 1)
    result["items_per_batch"] = size
    return result


def _wrk(script: Path, port: int, clients: int, seconds: int, script_args: list[str]):
    command = [
        "wrk",
        "--threads=1",
        f"--connections={clients}",
        f"--duration={seconds}s",
        "--timeout=10s",
        f"--script={script}",
        f"http://127.0.0.1:{port}",
        "--",
        *script_args,
    ]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    match = re.search(r"^WRK_JSON (\{.*\})$", run.stdout, re.MULTILINE)
    if run.returncode != 0 or match is None:
        raise BenchError(f"wrk failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    raw = json.loads(match.group(1))
    errors = sum(
        raw[key]
        for key in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    seconds_run = raw["duration_us"] / 1e6
    return {
        "transfers_per_s": round((raw["requests"] - raw["status_errors"]) / seconds_run, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": errors,
        "requests": raw["requests"],
    }


class Yardstick:
    """`../shared/bench/`: a transfer in plain SQL under pgbench, on its own database."""

    DATABASE = "bankledger_bench_ceiling"

    def __init__(self, server: PgServer):
        if not (YARDSTICK_DIR / "ledger_schema.sql").is_file():
            raise BenchError(
                f"the raw-SQL yardstick is missing: expected {YARDSTICK_DIR}/ledger_schema.sql "
                "(the shared bench/ folder beside this repository)"
            )
        self.server = server
        self.env = server.client_env(self.DATABASE)

    def create(self) -> None:
        self.server.recreate(self.DATABASE)
        self._psql("ledger_schema.sql")

    def _psql(self, name: str) -> None:
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(YARDSTICK_DIR / name)],
            env=self.env,
            check=True,
            capture_output=True,
        )

    def run(self, *, mix: str, clients: int, seconds: int) -> dict:
        self._psql("ledger_reset.sql")
        with tempfile.TemporaryDirectory() as logs:
            command = [
                "pgbench",
                "-n",
                "-M",
                "prepared",
                "-f",
                str(YARDSTICK_DIR / f"transfer_{mix}.sql"),
                "-c",
                str(clients),
                "-j",
                str(min(clients, 2)),
                "-T",
                str(seconds),
                "-l",
                f"--log-prefix={logs}/pgbench",
            ]
            output = subprocess.run(
                command, env=self.env, capture_output=True, text=True, check=True
            ).stdout
            latencies = sorted(
                int(line.split()[2]) / 1000
                for log in Path(logs).iterdir()
                for line in log.read_text().splitlines()
            )
        tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
        failed = re.search(r"number of failed transactions: (\d+)", output)
        return {
            "transfers_per_s": round(float(tps.group(1)), 1),
            "p50_ms": round(percentile(latencies, 0.50), 3),
            "p95_ms": round(percentile(latencies, 0.95), 3),
            "p99_ms": round(percentile(latencies, 0.99), 3),
            "errors": int(failed.group(1)) if failed else 0,
            "requests": len(latencies),
        }

    def psycopg_loop(self, *, threads: int, seconds: int) -> dict:
        """The yardstick's uniform transfer, from `threads` Python threads over psycopg 3
        (which prepares statements after a few executions, as `pgbench -M prepared` does)."""
        import psycopg

        self._psql("ledger_reset.sql")
        conninfo = self.server.conninfo(self.DATABASE)

        def transfer(cursor, rnd: random.Random, key: str) -> None:
            a = rnd.randint(1, 10000)
            b = rnd.randint(1, 9999)
            b += b >= a
            amount = rnd.randint(1, 1000)
            cursor.execute(
                "SELECT id, balance, status FROM accounts WHERE id IN (%s, %s) "
                "ORDER BY id FOR UPDATE",
                (a, b),
            )
            cursor.fetchall()
            cursor.execute(
                "INSERT INTO transactions (from_id, to_id, amount, idempotency_key, status) "
                "VALUES (%s, %s, %s, %s, 'posted') RETURNING id",
                (a, b, amount, key),
            )
            (txid,) = cursor.fetchone()
            cursor.execute(
                "INSERT INTO entries (transaction_id, account_id, amount, kind) "
                "VALUES (%s, %s, %s, 'debit'), (%s, %s, %s, 'credit')",
                (txid, a, -amount, txid, b, amount),
            )
            cursor.execute(
                "UPDATE accounts SET balance = balance - %s WHERE id = %s AND balance >= %s",
                (amount, a, amount),
            )
            cursor.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, b))

        def work(index: int, deadline: float, counts: list[int]) -> None:
            rnd = random.Random(index)
            with psycopg.connect(conninfo) as conn, conn.cursor() as cursor:
                while time.monotonic() < deadline:
                    with conn.transaction():
                        transfer(cursor, rnd, f"psycopg-{index}-{counts[index]}")
                    counts[index] += 1

        return _threaded(work, threads=threads, seconds=seconds)


def _threaded(work, *, threads: int, seconds: int) -> dict:
    counts = [0] * threads
    deadline = time.monotonic() + seconds
    start = time.monotonic()
    workers = [threading.Thread(target=work, args=(i, deadline, counts)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - start
    return {"transfers_per_s": round(sum(counts) / elapsed, 1), "transfers": sum(counts)}


def service_loop(*, accounts: list[SeededAccount], threads: int, seconds: int) -> dict:
    """`transactions.services.transfer_create` called from `threads` threads, no HTTP: uniform
    transfers between the seeded accounts, each with a fresh idempotency key."""
    from django.db import connection

    from transactions.services import transfer_create
    from users.models import User

    users = User.objects.in_bulk([a.user_id for a in accounts])

    def work(index: int, deadline: float, counts: list[int]) -> None:
        rnd = random.Random(index)
        try:
            while time.monotonic() < deadline:
                sender, receiver = rnd.sample(accounts, 2)
                transfer_create(
                    initiator=users[sender.user_id],
                    from_account_id=str(sender.account_id),
                    to_account_id=str(receiver.account_id),
                    amount=Decimal(rnd.randint(1, 1000)),
                    idempotency_key=f"service-{index}-{counts[index]}",
                )
                counts[index] += 1
        finally:
            connection.close()

    return _threaded(work, threads=threads, seconds=seconds)


class HordakPeer:
    """django-hordak, the library a Django user would pick instead: the scripts in
    `../shared/bench/peers/hordak/` on their own database, its `Account.transfer_to()` from
    threads in-process, as `service_loop` calls the transfer service."""

    DATABASE = "bankledger_bench_hordak"

    def __init__(self, server: PgServer):
        self.folder = YARDSTICK_DIR / "peers" / "hordak"
        if not (self.folder / "bench_transfer.py").is_file():
            raise BenchError(f"the hordak peer scripts are missing: expected {self.folder}")
        self.server = server
        self.env = dict(
            os.environ,
            HORDAK_DATABASE_URL=server.url(self.DATABASE),
            DJANGO_SETTINGS_MODULE="settings",
        )

    def _python(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def create(self, *, accounts: int) -> None:
        self.server.recreate(self.DATABASE)
        self.env["HORDAK_ACCOUNTS"] = str(accounts)
        self._python("manage.py", "migrate", "--noinput")
        self._python("setup_accounts.py")

    def run(self, *, threads: int, seconds: int) -> dict:
        line = self._python("bench_transfer.py", str(threads), str(seconds))
        fields = dict(re.findall(r"(\w+)=([0-9.]+)", line))
        return {
            "transfers_per_s": float(fields["rate"]),
            "transfers": int(fields["transfers"]),
            "errors": int(fields["errors"]),
            "p50_ms": float(fields["p50"]),
            "p99_ms": float(fields["p99"]),
            # The script's own CPU over the timed part (cores busy), per transfer.
            "library_cpu_ms": round(
                float(fields["client_cpu"]) * 1000 / max(float(fields["rate"]), 1e-9), 3
            ),
        }

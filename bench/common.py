"""What the benchmarks share: the PostgreSQL server, production settings, the app server,
seeding (through the project's services, plus one set-based SQL path for a long history) and
latency statistics.

Django is set up lazily (`django_setup`) because the database URL is only known once the
benchmark has created its own database."""

import base64
import http.client
import os
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
YARDSTICK_DIR = BASE_DIR.parent / "shared" / "bench"
RESULTS_DIR = BASE_DIR / "bench" / "results"
GUNICORN = Path(sys.executable).with_name("gunicorn")

# Every seeded user account gets this much (minor units): no transfer in a run can exhaust it.
SEED_BALANCE = 10**12


class BenchError(SystemExit):
    """A benchmark that cannot run: the message says what is missing."""

    def __init__(self, message: str):
        super().__init__(f"bench: {message}")


@dataclass(frozen=True)
class PgServer:
    """The PostgreSQL server named by DATABASE_URL; benchmarks make their own databases on it."""

    host: str
    port: int
    user: str
    password: str

    @classmethod
    def from_env(cls) -> "PgServer":
        url = os.environ.get("DATABASE_URL", "")
        parts = urlsplit(url)
        if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
            raise BenchError(
                "set DATABASE_URL to a reachable PostgreSQL server, "
                "e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
            )
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
        )

    def url(self, dbname: str) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str) -> str:
        return self.url(dbname).replace("postgres://", "postgresql://", 1)

    def client_env(self, dbname: str) -> dict[str, str]:
        """Environment for psql and pgbench."""
        env = dict(os.environ, PGHOST=self.host, PGPORT=str(self.port), PGUSER=self.user)
        env["PGDATABASE"] = dbname
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def recreate(self, dbname: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            name = sql.Identifier(dbname)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))

    def version(self) -> str:
        import psycopg

        with psycopg.connect(self.conninfo("postgres")) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    def setting(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.conninfo("postgres")) as conn:
            return conn.execute("SELECT current_setting(%s)", [name]).fetchone()[0]


def production_env(database_url: str) -> dict[str, str]:
    """The settings a production deployment runs with, except plain HTTP on loopback."""
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        DEBUG="false",
        JWT_SECRET=secrets.token_urlsafe(48),
        LEDGER_SIGNING_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # The load generator is trusted traffic: a deployment expecting one caller to send
        # hundreds of transfers a second raises its limits to fit (the counting still runs).
        RATE_LIMIT_WRITES="100000/second",
        RATE_LIMIT_READS="100000/second",
    )


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        check=check,
        capture_output=True,
        text=True,
    )


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankledger.settings")
    import django

    django.setup()


def machine() -> dict[str, str | int]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {"nproc": os.cpu_count() or 0, "cpu": model, "python": sys.version.split()[0]}


# --- seeding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeededAccount:
    account_id: uuid.UUID
    user_id: uuid.UUID
    token: str


def _bench_users(count: int, prefix: str):
    """Users with unusable passwords: the benchmark authenticates with tokens it issues itself,
    so it need not pay bcrypt for each one."""
    from users.models import User

    users = [User(email=f"{prefix}{i}@bench.invalid", name=f"Bench {i}") for i in range(count)]
    for user in users:
        user.set_unusable_password()
    return User.objects.bulk_create(users)


def _system_user(prefix: str):
    from accounts.services import system_user_create

    return system_user_create(
        email=f"{prefix}-system@bench.invalid", password=secrets.token_urlsafe(24)
    )


def seed_accounts(*, count: int) -> list[SeededAccount]:
    """`count` users with one funded INR account each, funded through the initial-funds
    service, and a token for each owner."""
    from accounts.models import Account
    from transactions.services import initial_funds_create
    from users.services import token_issue

    system = _system_user("load")
    users = _bench_users(count, "load")
    accounts = Account.objects.bulk_create([Account(user=user) for user in users])
    seeded = []
    for user, account in zip(users, accounts, strict=True):
        initial_funds_create(
            initiator=system,
            to_account_id=str(account.id),
            amount=Decimal(SEED_BALANCE).scaleb(-2),
            idempotency_key=f"seed-{account.id}",
        )
        seeded.append(SeededAccount(account.id, user.id, token_issue(user=user)))
    return seeded


@dataclass(frozen=True)
class History:
    long_account: uuid.UUID
    short_account: uuid.UUID
    long_entries: int
    short_entries: int
    token: str


_HISTORY_TABLES = ["transactions_transaction", "ledger_ledgerentry"]
_SEEDED_TABLES = ["accounts_account", "users_user"]
_SECONDARY_INDEXES = """
SELECT indexname, indexdef FROM pg_indexes
WHERE schemaname = current_schema() AND tablename = ANY(%s)
    AND indexname NOT IN (SELECT conname FROM pg_constraint)
"""
_FOREIGN_KEYS = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)
"""


@contextmanager
def _bulk_load(cursor, tables: list[str]):
    """Drop the secondary indexes and foreign keys of `tables` for a bulk insert and put the
    same definitions back after it, inside the caller's transaction: building an index by one
    sort and checking a foreign key by one join is minutes faster than doing either per row.
    Unique and primary-key indexes and CHECK constraints stay in force throughout."""
    cursor.execute(_SECONDARY_INDEXES, [tables])
    indexes = cursor.fetchall()
    cursor.execute(_FOREIGN_KEYS, [tables])
    foreign_keys = cursor.fetchall()
    for table, name, _definition in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    for _name, definition in indexes:
        cursor.execute(definition)
    for table, name, definition in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _copy_rows(model, *, overrides: dict[str, str], where: str) -> str:
    """INSERT ... SELECT that copies `model`'s template rows once per row of bench_history,
    with the columns in `overrides` computed; any column added later is copied as it is."""
    columns = [field.column for field in model._meta.concrete_fields]
    names = ", ".join(f'"{column}"' for column in columns)
    select = ", ".join(overrides.get(column, f't."{column}"') for column in columns)
    return (
        f"INSERT INTO {model._meta.db_table} ({names}) "
        f"SELECT {select} FROM {model._meta.db_table} AS t, bench_history AS h "
        f"WHERE {where} ORDER BY 1"
    )


def seed_history(*, entries: int, short_entries: int = 10) -> History:
    """Two accounts of one owner: one with `entries` ledger entries, one with `short_entries`.

    Each entry comes from an initial-funds transaction of 0.01 INR from a dedicated funding
    account. The first one and the short account's are made by the service; the other
    `entries - 1` are copies of the first made by set-based SQL (PostgreSQL), with what the
    service would have written: balanced transactions, a balance-after chain in id order and
    the stored balances, so `verify_ledger` passes."""
    from django.db import connection, transaction

    from accounts.models import Account
    from accounts.services import account_create
    from ledger.models import LedgerEntry
    from transactions.models import Transaction
    from transactions.services import initial_funds_create
    from users.services import token_issue

    system = _system_user("history")
    funding = Account.objects.get(user=system, is_funding=True)
    (owner,) = _bench_users(1, "history")
    long_account, short_account = account_create(user=owner), account_create(user=owner)
    template = initial_funds_create(
        initiator=system,
        to_account_id=str(long_account.id),
        amount=Decimal("0.01"),
        idempotency_key="history-1",
    ).transaction
    with transaction.atomic(), connection.cursor() as cursor:
        # Bulk statements that run for minutes: the app's statement timeout is not for them.
        cursor.execute("SET LOCAL statement_timeout = 0")
        # Transaction ids in sorted order, so every index on them is filled left to right.
        cursor.execute(
            "CREATE TEMP TABLE bench_history ON COMMIT DROP AS "
            "SELECT row_number() OVER (ORDER BY u) + 1 AS g, u AS tx "
            "FROM (SELECT gen_random_uuid() AS u FROM generate_series(2, %s)) AS s",
            [entries],
        )
        cursor.execute("SELECT nextval(pg_get_serial_sequence('ledger_ledgerentry', 'id'))")
        (base,) = cursor.fetchone()
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('ledger_ledgerentry', 'id'), %s)",
            [base + 2 * (entries - 1) - 1],
        )
        tx_copy = _copy_rows(
            Transaction,
            overrides={"id": "h.tx", "idempotency_key": "'history-' || h.g"},
            where="t.id = %(template)s",
        )
        entry_copy = _copy_rows(
            LedgerEntry,
            overrides={
                "id": "%(base)s + 2 * (h.g - 2) + CASE WHEN t.type = 'DEBIT' THEN 0 ELSE 1 END",
                "transaction_id": "h.tx",
                "balance_after": "CASE WHEN t.type = 'DEBIT' THEN -h.g ELSE h.g END",
            },
            where="t.transaction_id = %(template)s",
        )
        with _bulk_load(cursor, _HISTORY_TABLES):
            cursor.execute(tx_copy, {"template": template.id})
            cursor.execute(entry_copy, {"template": template.id, "base": base})
        Account.objects.filter(id=funding.id).update(balance=-entries)
        Account.objects.filter(id=long_account.id).update(balance=entries)
    with connection.cursor() as cursor:
        # As the yardstick's reset leaves its tables before its runs: vacuumed (the copied rows
        # are then known visible to all, not looked up again by the first runs), analyzed, and
        # the bulk load's pages written out by a checkpoint now rather than during the runs.
        # Only the tables seeded: a table analyzed while empty (batches) is planned as empty,
        # and a foreign key's check keeps the sequential scan it was first planned with for the
        # life of the connection, over a table that the runs then fill, until the table is
        # analyzed again (autovacuum's work, which this server may have turned off).
        cursor.execute("SET statement_timeout = 0")
        cursor.execute(f"VACUUM ANALYZE {', '.join([*_HISTORY_TABLES, *_SEEDED_TABLES])}")
        cursor.execute("CHECKPOINT")
        cursor.execute("RESET statement_timeout")
    for i in range(short_entries):
        initial_funds_create(
            initiator=system,
            to_account_id=str(short_account.id),
            amount=Decimal("0.01"),
            idempotency_key=f"short-{i}",
        )
    return History(
        long_account=long_account.id,
        short_account=short_account.id,
        long_entries=entries,
        short_entries=short_entries,
        token=token_issue(user=owner),
    )


# --- the server ------------------------------------------------------------------------------


@dataclass
class ServerConfig:
    """The WSGI server: gunicorn (`sync`: one request per process, a new TCP connection each;
    `gthread`: threads, keep-alive) or granian (Rust HTTP front, WSGI on blocking threads,
    keep-alive)."""

    worker_class: str = "granian"
    workers: int = 2
    threads: int = 1

    def describe(self) -> str:
        if self.worker_class == "granian":
            return f"granian wsgi, {self.workers} workers x {self.threads} threads"
        threads = f" x {self.threads} threads" if self.worker_class == "gthread" else ""
        return f"gunicorn {self.worker_class}, {self.workers} workers{threads}"

    def command(self, port: int) -> list[str]:
        if self.worker_class == "granian":
            return [
                str(GUNICORN.with_name("granian")),
                "--interface=wsgi",
                "--host=127.0.0.1",
                f"--port={port}",
                f"--workers={self.workers}",
                f"--blocking-threads={self.threads}",
                "--backlog=2048",
                "--respawn-failed-workers",
                "bankledger.wsgi:application",
            ]
        return [
            str(GUNICORN),
            "bankledger.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={self.workers}",
            f"--worker-class={self.worker_class}",
            f"--threads={self.threads}",
            "--backlog=2048",
        ]


class AppServer:
    """The app under the configured server on 127.0.0.1:`port`, stopped on exit."""

    def __init__(self, *, env: dict[str, str], port: int, config: ServerConfig, log: Path):
        self.env, self.port, self.config, self.log = env, port, config, log
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "AppServer":
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                self.config.command(self.port),
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the server exited; see {self.log}")
            try:
                status, _ = http_get(self.port, "/api/accounts", token=None)
            except OSError:
                time.sleep(0.2)
                continue
            if status == 401:
                return
            raise BenchError(f"the server answered {status} to an anonymous call; see {self.log}")
        raise BenchError(f"the server did not start within {timeout} s; see {self.log}")

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each worker process, in MB."""
        sizes = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
                )
            except OSError:
                continue
            if int(fields.get("PPid", "0").strip()) == self.process.pid and "VmRSS" in fields:
                sizes.append(int(fields["VmRSS"].split()[0]) / 1024)
        return sorted(sizes)

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def http_get(port: int, path: str, *, token: str | None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


# --- CPU per request ---------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, float, bytes]]:
    """Every process on this machine: pid -> (parent pid, CPU seconds used, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # After the command name: state, ppid, ... utime (14th field of the line), stime.
        found[int(entry.name)] = (
            int(fields[1]),
            (int(fields[11]) + int(fields[12])) / _TICKS,
            cmdline.replace(b"\0", b" "),
        )
    return found


def descendants(root: int) -> Callable[[dict], list[int]]:
    """The processes below `root` (a server's workers), for `CpuMeter`."""

    def pick(processes: dict) -> list[int]:
        below, frontier = [], {root}
        while frontier:
            frontier = {pid for pid, (ppid, _, _) in processes.items() if ppid in frontier}
            below.extend(frontier)
        return below

    return pick


def pg_backends(dbname: str) -> Callable[[dict], list[int]]:
    """The PostgreSQL backends connected to `dbname` (their process title names the database),
    for `CpuMeter`. The server's shared processes (WAL writer, checkpointer) are not counted."""
    marker = f" {dbname} ".encode()

    def pick(processes: dict) -> list[int]:
        return [
            pid
            for pid, (_, _, cmdline) in processes.items()
            if cmdline.startswith(b"postgres: ") and marker in cmdline
        ]

    return pick


class CpuMeter:
    """CPU seconds that groups of processes spend while the `with` block runs, from /proc.

    Each group is a function picking pids from the process table. The table is sampled every
    `interval` seconds and at the end, keeping each pid's last reading, so a process that ends
    during the block (pgbench's backends when it disconnects) loses at most one interval; a
    process that starts during it counts from zero. `load` is what this process's children
    reaped during the block used (the load generator run in it)."""

    def __init__(self, groups: dict[str, Callable[[dict], list[int]]], interval: float = 0.25):
        self.groups, self.interval = groups, interval
        self.seconds: dict[str, float] = {}

    def _sample(self) -> None:
        processes = _processes()
        for name, pick in self.groups.items():
            for pid in pick(processes):
                self._last[name][pid] = processes[pid][1]
                self._first[name].setdefault(pid, processes[pid][1] if self._starting else 0.0)

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> "CpuMeter":
        self._first = {name: {} for name in self.groups}
        self._last = {name: {} for name in self.groups}
        self._starting = True
        self._sample()
        self._starting = False
        self._children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        for name in self.groups:
            first, last = self._first[name], self._last[name]
            self.seconds[name] = sum(last[pid] - first[pid] for pid in last)
        self.seconds["load"] = (children.ru_utime - self._children.ru_utime) + (
            children.ru_stime - self._children.ru_stime
        )

    def per_request(self, requests: int) -> dict[str, float]:
        """Milliseconds of CPU per request served, for each group."""
        return {
            name: round(seconds * 1000 / max(requests, 1), 3)
            for name, seconds in self.seconds.items()
        }


# --- statements per transfer ---------------------------------------------------------------


class StatementLog:
    """Statements that PostgreSQL receives from the connections to one database, counted in the
    server's log: `log_statement = 'all'` set on that database only (new connections take it;
    no server-wide setting, no extension, only a superuser as trust auth gives), the log file
    found as the standard error of one of its backends, read from where it ended before."""

    def __init__(self, server: "PgServer", dbname: str):
        self.server, self.dbname = server, dbname

    def __enter__(self) -> "StatementLog":
        import psycopg
        from psycopg import sql

        self._alter = sql.SQL("ALTER DATABASE {} ").format(sql.Identifier(self.dbname))
        # From another database, so that these statements are not in the count.
        with psycopg.connect(self.server.conninfo("postgres"), autocommit=True) as conn:
            (pid,) = conn.execute("SELECT pg_backend_pid()").fetchone()
            self.path = Path(os.readlink(f"/proc/{pid}/fd/2"))
            conn.execute(self._alter + sql.SQL("SET log_statement = 'all'"))
        self.restart()
        return self

    def restart(self) -> None:
        """Count only what comes after this."""
        self.offset = self.path.stat().st_size

    def __exit__(self, *exc) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.server.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(self._alter + sql.SQL("RESET log_statement"))
        with self.path.open("rb") as log:
            log.seek(self.offset)
            text = log.read().decode(errors="replace")
        marker = f"@{self.dbname} "
        self.counts = Counter()
        for line in text.splitlines():
            if marker not in line:
                continue
            for tag in ("LOG:  statement: ", "LOG:  execute "):
                if tag in line:
                    statement = line.split(tag, 1)[1]
                    if tag.endswith("execute "):
                        statement = statement.split(": ", 1)[1]
                    self.counts[statement.split()[0].upper() if statement.split() else "?"] += 1

    def per_request(self, requests: int) -> dict:
        total = sum(self.counts.values())
        return {
            "per_request": round(total / max(requests, 1), 2),
            "by_kind": {
                kind: round(count / max(requests, 1), 2)
                for kind, count in self.counts.most_common()
            },
            "requests": requests,
        }


# --- statistics ------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def balance_latency(*, port: int, history: History, rounds: int) -> dict[str, float]:
    """Median latency (ms) of GET /api/accounts/balance/:id for the long and the short account,
    the two requests alternated so that drift in the machine's load hits both alike."""
    timings: dict[uuid.UUID, list[float]] = {history.long_account: [], history.short_account: []}
    for i in range(rounds + rounds // 10):
        for account in timings:
            start = time.perf_counter()
            status, body = http_get(port, f"/api/accounts/balance/{account}", token=history.token)
            elapsed = (time.perf_counter() - start) * 1000
            if status != 200:
                raise BenchError(f"balance request answered {status}: {body[:200]!r}")
            if i >= rounds // 10:  # the first tenth warms the workers up
                timings[account].append(elapsed)
    long_ms = statistics.median(timings[history.long_account])
    short_ms = statistics.median(timings[history.short_account])
    return {
        "long_entries": history.long_entries,
        "short_entries": history.short_entries,
        "long_median_ms": round(long_ms, 3),
        "short_median_ms": round(short_ms, 3),
        "ratio": round(long_ms / short_ms, 3),
        "requests_each": rounds,
    }

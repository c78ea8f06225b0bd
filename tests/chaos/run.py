"""Fault injection: concurrent clients send transfers to the app under gunicorn on a throwaway
PostgreSQL while workers are SIGKILLed, database connections are terminated from the server
side and PostgreSQL is restarted once. Clients retry every ambiguous outcome with the same
idempotency key. Afterwards nothing acknowledged may be lost, nothing may have moved twice, no
user account may be negative and `verify_ledger` must pass; while PostgreSQL is down the API
must answer 503 JSON quickly. Exits 1 otherwise.

Not part of the pytest run (it needs minutes and its own database server):
`make chaos`, or `python -m tests.chaos.run --duration 60`. It never touches the shared
PostgreSQL: it runs `initdb` into a temporary folder, listens on its own port and removes
everything when it ends."""

import argparse
import contextlib
import glob
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PASSWORD = "chaos-horse-battery-staple"
STARTING_BALANCE = 1_000_00  # minor units given to each user's first account


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the throwaway PostgreSQL -------------------------------------------------------------


class Postgres:
    """A private cluster in a temporary folder, owned by the `postgres` OS user when we are
    root (PostgreSQL refuses to run as root), listening on 127.0.0.1:`port` with fsync on."""

    def __init__(self, port: int):
        self.port = port
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="bankledger-chaos-pg-"))
        self.data = self.dir / "data"
        self.logfile = self.dir / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.url = f"postgres://postgres@127.0.0.1:{port}/chaos"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, cwd=self.dir)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on "
            "-c synchronous_commit=on -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def sql(self, statement: str, database: str = "postgres") -> None:
        with psycopg.connect(
            f"postgres://postgres@127.0.0.1:{self.port}/{database}", autocommit=True
        ) as connection:
            connection.execute(statement)

    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the app under gunicorn ---------------------------------------------------------------


class App:
    def __init__(self, env: dict, port: int, workers: int, logfile: Path):
        self.env, self.port, self.workers, self.logfile = env, port, workers, logfile
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if result.returncode:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
            )
        return result.stdout

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "bankledger.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                # The default control socket is one path per OS user: shared with any other
                # gunicorn running beside this one.
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.logfile.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def worker_pids(self) -> list[int]:
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    children.append(int(Path(stat).parent.name))
        return children

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# --- clients ------------------------------------------------------------------------------


@dataclass
class Outcome:
    user_id: str
    key: str
    sender: str
    receiver: str
    minor: int
    status: int | None = None  # the definitive HTTP status, None while unresolved
    code: str = ""


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    ambiguous: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    outcomes: list = field(default_factory=list)
    inflight: int = 0
    # Set while the outage is measured: clients hold their next request, so the probe measures
    # the app's answer and not the queue of a dozen clients in front of four sync workers.
    paused: threading.Event = field(default_factory=threading.Event)

    def drain(self, timeout: float) -> None:
        self.paused.set()
        started = time.monotonic()
        while self.inflight and time.monotonic() - started < timeout:
            time.sleep(0.1)

    def count(self, attr: str, key: str | None = None) -> None:
        with self.lock:
            if key is None:
                setattr(self, attr, getattr(self, attr) + 1)
            else:
                getattr(self, attr)[key] += 1


def ambiguous_reason(response: httpx.Response | None, error: Exception | None) -> str | None:
    """Why this answer says nothing about whether the transfer happened, or None when it is
    definitive (2xx: done; 4xx: refused, apart from 'the first attempt is still running')."""
    if error is not None:
        return type(error).__name__
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    if response.status_code == 409 and response.json().get("code") == "idempotency_in_progress":
        return "in progress"
    return None


def send_until_definitive(
    http: httpx.Client, token: str, outcome: Outcome, stats: Stats, deadline: float
) -> None:
    """POST the transfer, and again with the same key and body until the answer is definitive."""
    body = {
        "fromAccount": outcome.sender,
        "toAccount": outcome.receiver,
        "amount": f"{outcome.minor // 100}.{outcome.minor % 100:02d}",
        "idempotencyKey": outcome.key,
    }
    attempt = 0
    while time.monotonic() < deadline:
        while stats.paused.is_set():
            time.sleep(0.1)
        response = error = None
        stats.count("requests")
        stats.count("inflight")
        try:
            response = http.post(
                "/api/transactions", json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            error = exc
        finally:
            with stats.lock:
                stats.inflight -= 1
        reason = ambiguous_reason(response, error)
        if reason is None:
            outcome.status = response.status_code
            with contextlib.suppress(ValueError):
                outcome.code = response.json().get("code", "")
            return
        stats.count("ambiguous", reason)
        attempt += 1
        time.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))


def client_loop(
    base: str, user: dict, everyone: list[str], stats: Stats, stop: threading.Event, deadline: float
) -> None:
    rng = random.Random()
    with httpx.Client(base_url=base, timeout=httpx.Timeout(10.0, connect=3.0)) as http:
        while not stop.is_set():
            receiver = rng.choice([a for a in everyone if a not in user["accounts"]])
            outcome = Outcome(
                user_id=user["id"],
                key=f"chaos-{uuid.uuid4()}",
                sender=rng.choice(user["accounts"]),
                receiver=receiver,
                minor=rng.randint(1, 5_000),
            )
            with stats.lock:
                stats.outcomes.append(outcome)
            send_until_definitive(http, user["token"], outcome, stats, deadline)


# --- faults -------------------------------------------------------------------------------


def probe_outage(base: str, token: str, tries: int) -> list[tuple[float, int, str]]:
    """While the database is down: (seconds, status, code) of a read, a write and /health."""
    results = []
    with httpx.Client(base_url=base, timeout=30.0) as http:
        for n in range(tries):
            for method, path, body in [
                ("GET", "/api/accounts", None),
                (
                    "POST",
                    "/api/transactions",
                    {
                        "fromAccount": str(uuid.uuid4()),
                        "toAccount": str(uuid.uuid4()),
                        "amount": "1",
                        "idempotencyKey": f"probe-{n}",
                    },
                ),
                ("GET", "/api/health", None),
            ]:
                started = time.monotonic()
                try:
                    response = http.request(
                        method, path, json=body, headers={"Authorization": f"Bearer {token}"}
                    )
                    status = response.status_code
                    code = (
                        response.json().get("code", "")
                        if status != 404 or path != "/api/health"
                        else "absent"
                    )
                except (httpx.HTTPError, ValueError) as exc:
                    status, code = 0, type(exc).__name__
                results.append((time.monotonic() - started, status, f"{method} {path} {code}"))
    return results


def inject_faults(
    app: App,
    pg: Postgres,
    stats: Stats,
    stop: threading.Event,
    duration: float,
    base: str,
    token: str,
    report: dict,
) -> None:
    rng = random.Random()
    started = time.monotonic()
    restarted = False
    while not stop.wait(rng.uniform(0.5, 2.0)):
        elapsed = time.monotonic() - started
        if elapsed >= duration:
            return
        if not restarted and elapsed >= duration / 2:
            restarted = True
            # Frozen, not down: connections hang instead of being refused, so only the
            # bounded connect timeout stands between a request and a hung worker.
            log("fault: PostgreSQL frozen (SIGSTOP) after its connections are cut")
            terminate_connections(pg)
            os.kill(pg.pid(), signal.SIGSTOP)
            try:
                report["frozen_loaded"] = probe_outage(base, token, tries=1)
                stats.drain(timeout=60)
                report["frozen"] = probe_outage(base, token, tries=1)
            finally:
                os.kill(pg.pid(), signal.SIGCONT)
                stats.paused.clear()
            stats.count("faults", "postgres frozen")
            log("fault: PostgreSQL stop -m immediate")
            pg.stop("immediate")
            stats.count("faults", "postgres restart")
            time.sleep(1)
            report["outage_loaded"] = probe_outage(base, token, tries=1)
            stats.drain(timeout=60)
            report["outage"] = probe_outage(base, token, tries=1)
            stats.paused.clear()
            pg.start()
            log("PostgreSQL is back")
            report["recovery"] = wait_for_service(base, token, timeout=60)
            continue
        if rng.random() < 0.5:
            workers = app.worker_pids()
            if workers:
                os.kill(rng.choice(workers), signal.SIGKILL)
                stats.count("faults", "worker SIGKILL")
        elif terminate_connections(pg):
            stats.count("faults", "connections terminated")


def terminate_connections(pg: Postgres) -> bool:
    """Cut every connection of the app from the server side, as a failover or an admin would."""
    try:
        pg.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = 'chaos' AND pid <> pg_backend_pid()"
        )
    except psycopg.Error as exc:
        log(f"could not terminate connections: {exc}")
        return False
    return True


def wait_for_service(base: str, token: str, timeout: float) -> float | None:
    """Seconds until an authenticated read succeeds again, or None if it never does."""
    started = time.monotonic()
    with httpx.Client(base_url=base, timeout=5.0) as http:
        while time.monotonic() - started < timeout:
            with contextlib.suppress(httpx.HTTPError):
                response = http.get("/api/accounts", headers={"Authorization": f"Bearer {token}"})
                if response.status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.2)
    return None


# --- set-up and verification --------------------------------------------------------------


def set_up_users(base: str, count: int, system_email: str) -> list[dict]:
    users = []
    with httpx.Client(base_url=base, timeout=30.0) as http:
        system_token = (
            http.post("/api/auth/login", json={"email": system_email, "password": PASSWORD})
            .raise_for_status()
            .json()["token"]
        )
        for n in range(count):
            reply = (
                http.post(
                    "/api/auth/register",
                    json={
                        "name": f"Client {n}",
                        "email": f"client{n}@chaos.example",
                        "password": PASSWORD,
                    },
                )
                .raise_for_status()
                .json()
            )
            auth = {"Authorization": f"Bearer {reply['token']}"}
            accounts = [
                http.post("/api/accounts", json={}, headers=auth)
                .raise_for_status()
                .json()["account"]["_id"]
                for _ in range(2)
            ]
            http.post(
                "/api/transactions/system/initial-funds",
                json={
                    "toAccount": accounts[0],
                    "amount": f"{STARTING_BALANCE // 100}",
                    "idempotencyKey": f"seed-{n}",
                },
                headers={"Authorization": f"Bearer {system_token}"},
            ).raise_for_status()
            users.append(
                {"id": reply["user"]["_id"], "token": reply["token"], "accounts": accounts}
            )
    return users


def verify(outcomes: list[Outcome], seeded: dict[str, int], app: App) -> dict:
    """Compare what clients were told with what the database holds."""
    import django

    django.setup()
    from django.db.models import Count, Q

    from accounts.models import Account
    from ledger.models import LedgerEntry
    from transactions.models import Transaction

    lost, duplicated, wrong = [], [], []
    by_key = {
        (str(t.initiator_id), t.idempotency_key): t
        for t in Transaction.objects.filter(kind=Transaction.Kind.TRANSFER)
    }
    legs = {
        row["transaction_id"]: row
        for row in LedgerEntry.objects.values("transaction_id").annotate(
            debits=Count("id", filter=Q(type="DEBIT")), credits=Count("id", filter=Q(type="CREDIT"))
        )
    }
    sent_keys = set()
    for outcome in outcomes:
        sent_keys.add((outcome.user_id, outcome.key))
        row = by_key.get((outcome.user_id, outcome.key))
        moved = legs.get(row.id) if row else None
        if outcome.status in (200, 201):
            if (
                row is None
                or row.status != Transaction.Status.COMPLETED
                or row.amount != outcome.minor
            ):
                lost.append(outcome.key)
            elif moved is None or (moved["debits"], moved["credits"]) != (1, 1):
                wrong.append(outcome.key)
        elif outcome.status is not None and moved:
            wrong.append(outcome.key)  # refused, yet money moved
        if moved and (moved["debits"] > 1 or moved["credits"] > 1):
            duplicated.append(outcome.key)
    strays = [key for key in by_key if key not in sent_keys]
    duplicated += [str(key) for key in strays]
    negative = Account.objects.filter(balance__lt=0, is_funding=False).count()
    # What the clients were told must add up to every balance: any money moved twice (or lost)
    # behind their backs shows here even if it escaped the per-key checks above.
    expected = Counter()
    for outcome in outcomes:
        if outcome.status in (200, 201):
            expected[outcome.sender] -= outcome.minor
            expected[outcome.receiver] += outcome.minor
    drifted = [
        str(account.id)
        for account in Account.objects.filter(is_funding=False)
        if account.balance - seeded.get(str(account.id), 0) != expected[str(account.id)]
    ]
    ledger = subprocess.run(
        [PYTHON, "manage.py", "verify_ledger"],
        cwd=ROOT,
        env=app.env,
        capture_output=True,
        text=True,
    )
    return {
        "lost": lost,
        "duplicated": duplicated,
        "wrong": wrong,
        "negative": negative,
        "drifted": drifted,
        "verify_ledger": (ledger.returncode, (ledger.stdout + ledger.stderr).strip()),
    }


def free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=float(os.environ.get("CHAOS_DURATION", 90))
    )
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--app-port", type=int, default=int(os.environ.get("CHAOS_APP_PORT", 8200)))
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("CHAOS_PG_PORT", 5499)))
    parser.add_argument(
        "--outage-bound",
        type=float,
        default=10.0,
        help="seconds within which a request must get its 503 while the database is down",
    )
    parser.add_argument(
        "--keep-logs", metavar="DIR", help="copy the gunicorn and PostgreSQL logs here"
    )
    args = parser.parse_args()
    for port in (args.app_port, args.pg_port):
        if not free(port):
            log(f"port {port} is in use; pick another with --app-port/--pg-port")
            return 2

    pg = Postgres(args.pg_port)
    env = {
        **os.environ,
        "DATABASE_URL": pg.url,
        "DEBUG": "false",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "bankledger.settings",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    os.environ.update(
        {
            k: env[k]
            for k in (
                "DATABASE_URL",
                "DEBUG",
                "JWT_SECRET",
                "SECURE_SSL_REDIRECT",
                "DJANGO_SETTINGS_MODULE",
            )
        }
    )
    sys.path.insert(0, str(ROOT))
    app = App(env, args.app_port, args.workers, pg.dir / "gunicorn.log")
    base = f"http://127.0.0.1:{args.app_port}"
    stats, stop, report = Stats(), threading.Event(), {}
    try:
        log(f"initdb and start PostgreSQL on 127.0.0.1:{args.pg_port} in {pg.dir}")
        pg.init()
        pg.start()
        pg.sql("CREATE DATABASE chaos")
        app.manage("migrate", "--noinput")
        app.manage("create_system_user", "--email", "system@chaos.example", "--password", PASSWORD)
        log(f"gunicorn with {args.workers} workers on {base}")
        app.start()
        if not wait_for_http(base, timeout=30):
            raise RuntimeError(f"gunicorn did not come up; see {app.logfile}")
        users = set_up_users(base, args.clients, "system@chaos.example")
        everyone = [a for u in users for a in u["accounts"]]
        deadline = time.monotonic() + args.duration + 120  # retries may run on after the faults
        clients = [
            threading.Thread(target=client_loop, args=(base, u, everyone, stats, stop, deadline))
            for u in users
        ]
        log(f"{len(clients)} clients for {args.duration:.0f} s, with faults")
        for thread in clients:
            thread.start()
        inject_faults(app, pg, stats, stop, args.duration, base, users[0]["token"], report)
        stop.set()
        for thread in clients:
            thread.join()
        seeded = {u["accounts"][0]: STARTING_BALANCE for u in users}
        result = verify(stats.outcomes, seeded, app)
    finally:
        stop.set()
        app.stop()
        logs = pg.dir / "gunicorn.log"
        tail = logs.read_text(errors="replace")[-3000:] if logs.exists() else ""
        if args.keep_logs:
            for name in ("gunicorn.log", "postgres.log"):
                with contextlib.suppress(OSError):
                    shutil.copy(pg.dir / name, Path(args.keep_logs) / f"chaos-{name}")
        pg.remove()
    return print_report(stats, report, result, args.outage_bound, tail)


def wait_for_http(base: str, timeout: float) -> bool:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{base}/api/accounts", timeout=5)
            return True
        time.sleep(0.2)
    return False


def print_report(stats: Stats, report: dict, result: dict, bound: float, tail: str) -> int:
    outcomes = stats.outcomes
    statuses = Counter(o.status for o in outcomes)
    acknowledged = statuses[200] + statuses[201]
    unresolved = statuses[None]
    outage = report.get("frozen", []) + report.get("outage", [])
    slow_or_wrong = [p for p in outage if p[0] > bound or (p[1] != 503 and "absent" not in p[2])]
    failures = {
        "transfers lost": len(result["lost"]),
        "transfers duplicated": len(result["duplicated"]),
        "acknowledged without exactly one debit and one credit, or refused yet moved": len(
            result["wrong"]
        ),
        "user accounts below zero": result["negative"],
        "balances that differ from what clients were told": len(result["drifted"]),
        "transfers never answered definitively": unresolved,
        "verify_ledger exit status": result["verify_ledger"][0],
        "outage answers that were not a quick 503": len(slow_or_wrong),
        "service did not come back after the restart": int(report.get("recovery") is None),
    }
    refused = {k: v for k, v in statuses.items() if k and k >= 400}
    ledger_says = result["verify_ledger"][1].splitlines()[-1:] or [""]
    rows = [
        ("requests sent", stats.requests),
        ("transfers attempted", len(outcomes)),
        ("  acknowledged (201/200)", f"{acknowledged}  (200 replays: {statuses[200]})"),
        ("  refused (4xx)", f"{sum(refused.values())}  {refused}"),
        ("faults injected", f"{sum(stats.faults.values())}  {dict(stats.faults)}"),
        ("ambiguous outcomes retried", f"{sum(stats.ambiguous.values())}  {dict(stats.ambiguous)}"),
        ("transfers lost", len(result["lost"])),
        ("transfers duplicated", len(result["duplicated"])),
        ("user accounts below zero", result["negative"]),
        ("balances off the clients' view", len(result["drifted"])),
        ("verify_ledger", ledger_says[0]),
    ]
    print("\n==== chaos run ====")
    for name, value in rows:
        print(f"{name:<31}{value}")
    for title, key in [
        ("frozen (SIGSTOP), under full client load (reported, queueing included)", "frozen_loaded"),
        ("frozen (SIGSTOP), clients held (checked against --outage-bound)", "frozen"),
        ("down (stopped), under full client load (reported)", "outage_loaded"),
        ("down (stopped), clients held (checked)", "outage"),
    ]:
        print(f"while PostgreSQL was {title}:")
        for seconds, status, what in report.get(key, []):
            print(f"  {what:<45} {status} in {seconds:.2f} s")
    recovery = report.get("recovery")
    print(f"service back after restart in  {'never' if recovery is None else f'{recovery:.2f} s'}")
    bad = {k: v for k, v in failures.items() if v}
    if bad:
        print(f"FAILED: {bad}")
        for name in ("lost", "duplicated", "wrong"):
            if result[name]:
                print(f"  {name}: {result[name][:10]}")
        print(f"last lines of the gunicorn log:\n{tail}")
        return 1
    print("OK: nothing lost, nothing duplicated, ledger verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())

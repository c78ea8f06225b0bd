"""Fault injection: concurrent clients send transfers to the app under gunicorn on a throwaway
PostgreSQL while workers are SIGKILLed, database connections are terminated from the server
side and PostgreSQL is restarted once. Clients retry every ambiguous outcome with the same
idempotency key. Afterwards nothing acknowledged may be lost, nothing may have moved twice, no
user account may be negative and `verify_ledger` must pass; while PostgreSQL is down the API
must answer 503 JSON quickly. A webhook receiver on loopback must have got every acknowledged
transfer's event at least once, and none for a transfer that did not happen, while the events
worker is SIGKILLed now and then too. Exits 1 otherwise.

Not part of the pytest run (it needs minutes and its own database server):
`make chaos`, or `python -m tests.chaos.run --duration 60`. It never touches the shared
PostgreSQL: it runs `initdb` into a temporary folder, listens on its own port and removes
everything when it ends."""

import argparse
import contextlib
import os
import random
import shutil
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg

from tests.chaos.app import ROOT, App, production_env, wait_for_http
from tests.chaos.checks import print_rows, print_verdict, summary, verify
from tests.chaos.clients import (
    PASSWORD,
    STARTING_BALANCE,
    Stats,
    log,
    set_up_users,
    start_clients,
    wait_for_service,
)
from tests.chaos.postgres import Postgres, free
from tests.chaos.webhooks import WEBHOOK_ENV, EventsWorker, register, wait_delivered
from tests.chaos.webhooks import check as check_webhooks
from tests.events.servers import Receiver

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
    events: EventsWorker,
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
            freeze(pg)
            try:
                report["frozen_loaded"] = probe_outage(base, token, tries=1)
                stats.drain(timeout=60)
                report["frozen"] = probe_outage(base, token, tries=1)
            finally:
                pg.signal_all(signal.SIGCONT)
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
        if rng.random() < 0.1:
            events.kill_and_restart()
            stats.count("faults", "events worker SIGKILL")
        elif rng.random() < 0.5:
            workers = app.worker_pids()
            if workers:
                os.kill(rng.choice(workers), signal.SIGKILL)
                stats.count("faults", "worker SIGKILL")
        elif terminate_connections(pg):
            stats.count("faults", "connections terminated")


def freeze(pg: Postgres) -> None:
    """Nothing connects (the postmaster is stopped first) and no connection already open
    answers: they are cut through one opened before, and once they are gone every process of
    the cluster is stopped too."""
    terminate = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = 'chaos' AND pid <> pg_backend_pid()"
    )
    left = "SELECT count(*) FROM pg_stat_activity WHERE datname = 'chaos'"
    with pg.connect() as admin:
        os.kill(pg.pid(), signal.SIGSTOP)
        admin.execute(terminate)
        deadline = time.monotonic() + 10
        while admin.execute(left).fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.05)
    pg.signal_all(signal.SIGSTOP)


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
    env = production_env(pg.url, **WEBHOOK_ENV)
    os.environ.update(
        {
            k: env[k]
            for k in (
                "DATABASE_URL",
                "DEBUG",
                "JWT_SECRET",
                "LEDGER_SIGNING_KEY",
                "SECURE_SSL_REDIRECT",
                "DJANGO_SETTINGS_MODULE",
            )
        }
    )
    sys.path.insert(0, str(ROOT))
    app = App(env, args.app_port, args.workers, pg.dir / "gunicorn.log")
    events = EventsWorker(env, pg.dir / "events.log")
    receiver = Receiver(200)
    base = app.base
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
        events.start()
        register(base, "system@chaos.example", receiver)
        users = set_up_users(base, args.clients, "system@chaos.example")
        deadline = time.monotonic() + args.duration + 120  # retries may run on after the faults
        log(f"{len(users)} clients for {args.duration:.0f} s, with faults")
        clients = start_clients(base, users, stats, stop, deadline)
        inject_faults(app, events, pg, stats, stop, args.duration, base, users[0]["token"], report)
        stop.set()
        for thread in clients:
            thread.join()
        seeded = {u["accounts"][0]: STARTING_BALANCE for u in users}
        result = verify(stats.outcomes, seeded, app.env)
        report["caught_up"] = wait_delivered(timeout=180)
        result["webhooks"] = check_webhooks(stats.outcomes, receiver)
    finally:
        stop.set()
        events.stop()
        receiver.stop()
        app.stop()
        tail = app.log_tail()
        if args.keep_logs:
            for name in ("gunicorn.log", "postgres.log", "events.log"):
                with contextlib.suppress(OSError):
                    shutil.copy(pg.dir / name, Path(args.keep_logs) / f"chaos-{name}")
        pg.remove()
    return print_report(stats, report, result, args.outage_bound, tail)


def print_report(stats: Stats, report: dict, result: dict, bound: float, tail: str) -> int:
    rows, failures = summary(stats, result)
    outage = report.get("frozen", []) + report.get("outage", [])
    slow_or_wrong = [p for p in outage if p[0] > bound or (p[1] != 503 and "absent" not in p[2])]
    failures["outage answers that were not a quick 503"] = len(slow_or_wrong)
    failures["service did not come back after the restart"] = int(report.get("recovery") is None)
    hooks = result.get("webhooks", {})
    failures["acknowledged transfers whose event never reached the receiver"] = len(
        hooks.get("undelivered", [None])
    )
    failures["delivered events of transfers that did not happen"] = len(hooks.get("phantom", []))
    caught_up = report.get("caught_up")
    failures["webhook deliveries still waiting after the run"] = int(caught_up is None)
    rows += [
        ("webhook deliveries received", hooks.get("deliveries")),
        ("  backlog drained after the run", "never" if caught_up is None else f"{caught_up:.1f} s"),
        ("  copies (at least once)", hooks.get("copies")),
        ("  acknowledged, never delivered", len(hooks.get("undelivered", []))),
        ("  for no transfer", len(hooks.get("phantom", []))),
    ]
    print_rows("chaos run", rows)
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
    return print_verdict(failures, result, tail)


if __name__ == "__main__":
    sys.exit(main())

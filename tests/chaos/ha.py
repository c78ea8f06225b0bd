"""Failover with nothing lost: clients send transfers (retrying ambiguous outcomes with the same
key, as in `make chaos`) to the app under gunicorn, which reaches PostgreSQL through libpq's
multi-host string with `target_session_attrs=read-write`. Two PostgreSQL nodes run under
Patroni with etcd, synchronous replication required for commit. The primary's PostgreSQL is
killed with SIGKILL; Patroni promotes the synchronous standby, the app reconnects by itself,
and the old primary later rejoins as a standby. Afterwards every acknowledged transfer must be
on the new primary, none duplicated, and `verify_ledger` must pass there; the run prints the
write-unavailability window (first failed to first successful write after the kill) and exits
1 on any loss.

`make ha-chaos`, or `python -m tests.chaos.ha --duration 60`. Needs Debian's `patroni` and
`etcd-server`; everything listens on loopback ports of its own and is removed at the end."""

import argparse
import contextlib
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

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
)
from tests.chaos.patroni import PatroniCluster
from tests.chaos.postgres import free, wait_until


def say(message: str) -> None:
    log(message, tag="ha-chaos")


def bootstrap(cluster: PatroniCluster, timeout: float) -> None:
    """etcd, the first node as leader, the second cloned from it as synchronous standby."""
    cluster.start_etcd()
    first, second = cluster.nodes
    cluster.start_node(first)
    if not wait_until(lambda: cluster.leader() is first, timeout):
        raise RuntimeError(f"{first.name} did not become leader; see {cluster.dir}")
    cluster.start_node(second)
    if not wait_until(cluster.healthy, timeout):
        raise RuntimeError(f"no synchronous standby; see {cluster.dir}")
    leader = f"postgres://postgres@127.0.0.1:{first.pg_port}/postgres"
    with psycopg.connect(leader, autocommit=True) as connection:
        connection.execute("CREATE DATABASE chaos")


def write_window(stats: Stats, killed_at: float) -> tuple[float | None, float | None]:
    """(first failed write after the kill, first successful write after that), in seconds
    after the kill; None where there was none."""
    with stats.lock:
        answers = sorted(a for a in stats.answers if a[0] >= killed_at)
    failed = next((t for t, status in answers if status is None), None)
    if failed is None:
        return None, None
    recovered = next((t for t, status in answers if t > failed and status == 201), None)
    return failed - killed_at, (recovered - killed_at if recovered else None)


def kill_primary(cluster: PatroniCluster, stats: Stats, report: dict) -> float:
    old = cluster.leader()
    report["old_leader"] = old.name
    pids = cluster.postmaster_pids(old)
    say(f"fault: SIGKILL the primary's PostgreSQL on {old.name} ({len(pids)} processes)")
    killed_at = time.monotonic()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    stats.count("faults", "primary PostgreSQL SIGKILL")
    return killed_at


def watch_failover(cluster: PatroniCluster, old: str, killed_at: float, report: dict, timeout):
    """Wait for a new leader, then for the old primary to rejoin as synchronous standby."""
    promoted = wait_until(
        lambda: (leader := cluster.leader()) is not None and leader.name != old, timeout
    )
    report["promoted_after"] = time.monotonic() - killed_at if promoted else None
    report["new_leader"] = getattr(cluster.leader(), "name", None)
    say(f"new leader: {report['new_leader']}")
    rejoined = wait_until(cluster.healthy, timeout)
    report["rejoined_after"] = time.monotonic() - killed_at if rejoined else None
    say(f"{old} rejoined as standby: {rejoined}")


def run(args, cluster: PatroniCluster, app: App, stats: Stats, report: dict) -> dict:
    stop = threading.Event()
    say(f"etcd and two Patroni nodes in {cluster.dir}")
    bootstrap(cluster, timeout=args.bootstrap_timeout)
    app.manage("migrate", "--noinput")
    app.manage("create_system_user", "--email", "system@chaos.example", "--password", PASSWORD)
    say(f"gunicorn with {args.workers} workers on {app.base}, database {cluster.url}")
    app.start()
    if not wait_for_http(app.base, timeout=30):
        raise RuntimeError(f"gunicorn did not come up; see {app.logfile}")
    users = set_up_users(app.base, args.clients, "system@chaos.example")
    deadline = time.monotonic() + args.duration + 180  # retries may run on after the faults
    say(f"{len(users)} clients for {args.duration:.0f} s; primary killed after {args.kill_after} s")
    started = time.monotonic()
    clients = start_clients(app.base, users, stats, stop, deadline)
    try:
        time.sleep(args.kill_after)
        killed_at = kill_primary(cluster, stats, report)
        watch_failover(cluster, report["old_leader"], killed_at, report, args.failover_timeout)
        time.sleep(max(0.0, args.duration - (time.monotonic() - started)))
    finally:
        stop.set()
        for thread in clients:
            thread.join()
    report["window"] = write_window(stats, killed_at)
    # A cancelled wait for the standby (a statement timeout or a terminated backend during
    # COMMIT) leaves a commit that PostgreSQL reports as done though only the primary has it.
    report["unreplicated"] = cluster.unreplicated_commits()
    seeded = {u["accounts"][0]: STARTING_BALANCE for u in users}
    return verify(stats.outcomes, seeded, app.env)


def print_report(stats: Stats, report: dict, result: dict, tail: str) -> int:
    rows, failures = summary(stats, result)
    failed, recovered = report.get("window", (None, None))
    failures["no new leader after the kill"] = int(report.get("promoted_after") is None)
    failures["old primary did not rejoin as standby"] = int(report.get("rejoined_after") is None)
    failures["writes never came back after the kill"] = int(failed is not None and not recovered)
    failures["commits acknowledged without the standby"] = report.get("unreplicated", 0)
    print_rows("ha-chaos run", rows)
    print(f"{'commits not on the standby':<31}{report.get('unreplicated')}")
    print(f"{'failover':<31}{report.get('old_leader')} -> {report.get('new_leader')}")
    for name, key in [
        ("promoted after kill", "promoted_after"),
        ("rejoined after kill", "rejoined_after"),
    ]:
        value = report.get(key)
        print(f"{name:<31}{'never' if value is None else f'{value:.1f} s'}")
    if failed is None:
        print(f"{'write-unavailability window':<31}none (no write failed)")
    else:
        end = f"{recovered:.1f} s" if recovered is not None else "never"
        print(
            f"{'write-unavailability window':<31}{(recovered or failed) - failed:.1f} s "
            f"(first failed write {failed:.1f} s after the kill, first success {end})"
        )
    return print_verdict(failures, result, tail)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=float(os.environ.get("HA_CHAOS_DURATION", 90))
    )
    parser.add_argument(
        "--kill-after", type=float, default=15.0, help="seconds of load before the kill"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--app-port", type=int, default=int(os.environ.get("HA_APP_PORT", 8360)))
    parser.add_argument(
        "--pg-port", type=int, default=int(os.environ.get("HA_PG_PORT", 5510)), help="and the next"
    )
    parser.add_argument(
        "--rest-port",
        type=int,
        default=int(os.environ.get("HA_REST_PORT", 8350)),
        help="and the next",
    )
    parser.add_argument(
        "--etcd-port",
        type=int,
        default=int(os.environ.get("HA_ETCD_PORT", 23790)),
        help="and the next",
    )
    parser.add_argument("--bootstrap-timeout", type=float, default=120.0)
    parser.add_argument("--failover-timeout", type=float, default=120.0)
    parser.add_argument(
        "--keep-logs",
        metavar="DIR",
        help="copy the etcd, Patroni, PostgreSQL and gunicorn logs here",
    )
    args = parser.parse_args()
    ports = [args.app_port, args.pg_port, args.pg_port + 1, args.rest_port, args.rest_port + 1]
    ports += [args.etcd_port, args.etcd_port + 1]
    if busy := [p for p in ports if not free(p)]:
        say(f"ports in use: {busy}; pick others with the --*-port options")
        return 2
    for tool in ("patroni", "etcd"):
        if shutil.which(tool) is None:
            say(f"{tool} is not installed (Debian: apt-get install patroni etcd-server)")
            return 2

    cluster = PatroniCluster(
        pg_ports=(args.pg_port, args.pg_port + 1),
        rest_ports=(args.rest_port, args.rest_port + 1),
        etcd_port=args.etcd_port,
    )
    env = production_env(cluster.url)
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
    app = App(env, args.app_port, args.workers, cluster.dir / "gunicorn.log")
    stats, report = Stats(), {}
    try:
        result = run(args, cluster, app, stats, report)
    finally:
        app.stop()
        tail = app.log_tail()
        cluster.stop()
        if args.keep_logs:
            for log_file in cluster.dir.glob("*.log"):
                with contextlib.suppress(OSError):
                    shutil.copy(log_file, Path(args.keep_logs) / f"ha-chaos-{log_file.name}")
        cluster.remove()
    return print_report(stats, report, result, tail)


if __name__ == "__main__":
    sys.exit(main())

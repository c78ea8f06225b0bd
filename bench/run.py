"""`make bench` / `make bench-sqlite`: the app under its WSGI server with production settings,
loaded by wrk from a separate process, beside the raw-SQL yardstick (pgbench) on the same
server; the transfer service in-process against a plain psycopg loop and django-hordak's
`transfer_to`; the balance endpoint at 10 and 1,000,000 entries; `verify_ledger` at the end.
Every run also reports the CPU it cost per request (app workers, PostgreSQL backends, load
generator; from /proc), and the statements PostgreSQL received per transfer (its log). Prints a
table, writes JSON and a PNG chart under bench/results/, and exits 1 when the ledger does not
verify."""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    RESULTS_DIR,
    AppServer,
    BenchError,
    CpuMeter,
    PgServer,
    ServerConfig,
    StatementLog,
    balance_latency,
    descendants,
    django_setup,
    machine,
    manage,
    pg_backends,
    port_is_free,
    production_env,
    seed_accounts,
    seed_history,
)
from bench.load import (
    HordakPeer,
    Yardstick,
    service_loop,
    write_accounts_file,
    wrk,
    wrk_batches,
)

APP_DATABASE = "bankledger_bench"
MIXES = ("uniform", "hot")
SERVERS = ("sync", "gthread", "granian")
TARGETS = {
    "http_uniform_ratio_8": 0.20,
    "http_hot_ratio_8": 0.20,
    "service_ratio_8": 0.50,
    "p99_ms_8": 50.0,
    "balance_ratio": 1.2,
    "rss_mb": 150.0,
    "service_vs_hordak_8": 1.0,
    "batch100_ratio_8": 1.0,
    "app_cpu_ms_8": 3.0,
    "postgres_cpu_ms_8": 1.2,
}
# Targets met at or above their bound; the others at or below.
AT_LEAST = {"service_vs_hordak_8", "batch100_ratio_8"}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--seconds", type=int, default=15, help="length of each load run")
    parser.add_argument("--levels", default="1,8,32", help="concurrency levels")
    parser.add_argument("--accounts", type=int, default=1000, help="seeded funded accounts")
    parser.add_argument("--history", type=int, default=1_000_000, help="entries, long account")
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument(
        "--worker-class",
        default="granian",
        choices=SERVERS,
        help="gunicorn's sync or gthread worker, or granian",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="per worker (gthread, granian)")
    parser.add_argument(
        "--compare-servers",
        default=",".join(SERVERS),
        help="servers also measured at uniform/8 clients, each in turn, on port+1 ('' for none)",
    )
    parser.add_argument("--name", default="", help="results file name (default: timestamp)")
    parser.add_argument(
        "--batch-sizes", default="1,10,100", help="items per POST /transactions/batch run"
    )
    parser.add_argument("--batch-clients", type=int, default=8, help="connections, batch runs")
    parser.add_argument(
        "--batches-only",
        action="store_true",
        help="only the batch runs and one single-transfer run beside them (no yardstick, "
        "history or in-process runs): a short measurement of the batch path",
    )
    parser.add_argument("--app-database", default=APP_DATABASE, help="PostgreSQL database")
    return parser.parse_args()


def _check_tools(database: str) -> None:
    needed = ["wrk"] + (["pgbench", "psql"] if database == "postgresql" else [])
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        raise BenchError(f"missing {', '.join(missing)} (make bench installs them on Debian)")


def main() -> int:
    args = _arguments()
    _check_tools(args.database)
    if not port_is_free(args.port):
        raise BenchError(f"port {args.port} is in use; pass --port")
    levels = [int(level) for level in args.levels.split(",")]
    config = ServerConfig(args.worker_class, args.workers, args.threads)
    work = Path(tempfile.mkdtemp(prefix="bankledger-bench-"))
    postgres = args.database == "postgresql"
    result: dict = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": args.database,
        "machine": machine(),
        "server": config.describe(),
        "seconds_per_run": args.seconds,
        "levels": levels,
        "batch_clients": args.batch_clients,
        "http": {},
        "yardstick": {},
        "batches": {},
    }
    yardstick = None
    if postgres:
        server = PgServer.from_env()
        result["machine"]["postgresql"] = server.version()
        result["machine"]["fsync"] = server.setting("fsync")
        result["machine"]["synchronous_commit"] = server.setting("synchronous_commit")
        server.recreate(args.app_database)
        if not args.batches_only:
            yardstick = Yardstick(server)
            yardstick.create()
        env = production_env(server.url(args.app_database))
    else:
        env = production_env(f"sqlite:///{work / 'bench.sqlite3'}")
    _step("migrating a fresh database")
    manage(env, "migrate", "--noinput")
    django_setup(env)
    _step(f"seeding {args.accounts} funded accounts")
    accounts = seed_accounts(count=args.accounts)
    accounts_file = write_accounts_file(accounts, work / "accounts.txt")
    history = None
    if postgres and not args.batches_only:
        _step(f"seeding an account with {args.history:,} ledger entries (set-based SQL)")
        history = seed_history(entries=args.history)
    nonce = str(int(time.time()))
    app_db = args.app_database if postgres else None
    with AppServer(env=env, port=args.port, config=config, log=work / "server.log") as app:
        _step(f"serving with {config.describe()} on port {args.port}; warming up")
        wrk(
            port=args.port,
            accounts_file=accounts_file,
            mix="uniform",
            clients=8,
            seconds=3,
            label=f"warm{nonce}",
        )
        meter = _app_groups(app, app_db)
        for mix, clients in _single_runs(args, levels):
            _step(f"HTTP {mix}, {clients} clients")
            result["http"][f"{mix}/{clients}"] = _measured(
                meter,
                wrk,
                port=args.port,
                accounts_file=accounts_file,
                mix=mix,
                clients=clients,
                seconds=args.seconds,
                label=f"{mix}{clients}-{nonce}",
            )
            if yardstick is not None:
                _step(f"yardstick {mix}, {clients} clients")
                result["yardstick"][f"{mix}/{clients}"] = _measured(
                    {"postgres": pg_backends(Yardstick.DATABASE)},
                    yardstick.run,
                    mix=mix,
                    clients=clients,
                    seconds=args.seconds,
                )
        for size in [int(size) for size in args.batch_sizes.split(",") if size]:
            _step(f"HTTP batches of {size}, {args.batch_clients} clients")
            row = _measured(
                meter,
                wrk_batches,
                port=args.port,
                accounts_file=accounts_file,
                size=size,
                clients=args.batch_clients,
                seconds=args.seconds,
                label=f"batch{size}-{nonce}",
            )
            row["cpu_ms_per_transfer"] = {
                name: round(ms / size, 3) for name, ms in row["cpu_ms_per_request"].items()
            }
            result["batches"][f"batch{size}/{args.batch_clients}"] = row
        if history is not None:
            _step("balance latency, 1,000,000 vs 10 entries")
            result["balance"] = balance_latency(port=args.port, history=history, rounds=1000)
        result["worker_rss_mb"] = [round(size, 1) for size in app.worker_rss_mb()]
    result["servers"] = _compare_servers(args, env, app_db, accounts_file, work, nonce)
    if postgres:
        result["statements"] = _statements(args, env, server, config, accounts_file, work, nonce)
    if yardstick is not None:
        _in_process(result, args, server, accounts, yardstick)
    _step("verify_ledger")
    verify = manage(env, "verify_ledger", check=False)
    result["verify_ledger"] = {"ok": verify.returncode == 0, "output": verify.stdout.strip()}
    _add_ratios(result)
    _print(result)
    _save(result, args.name or f"{result['started'][:19].replace(':', '')}-{args.database}")
    shutil.rmtree(work, ignore_errors=True)
    if verify.returncode != 0:
        print(verify.stdout, verify.stderr, file=sys.stderr)
        return 1
    return 0


def _app_groups(app: AppServer, app_db: str | None) -> dict:
    """What a `CpuMeter` of an HTTP run counts: the server's workers and, on PostgreSQL, the
    backends serving the app's database."""
    groups = {"app": descendants(app.process.pid)}
    if app_db:
        groups["postgres"] = pg_backends(app_db)
    return groups


def _measured(groups: dict, run, *, per: str = "requests", **kwargs) -> dict:
    """`run(**kwargs)` (a row counting `per`), with the CPU per request of `groups` and of the
    load generator it starts in a child process."""
    with CpuMeter(groups) as meter:
        row = run(**kwargs)
    row["cpu_ms_per_request"] = meter.per_request(row[per])
    return row


def _compare_servers(args, env, app_db, accounts_file: Path, work: Path, nonce: str) -> dict:
    """Uniform single transfers at the batch runs' concurrency on each server in turn."""
    rows = {}
    for name in [name for name in args.compare_servers.split(",") if name]:
        config = ServerConfig(name, args.workers, 1 if name == "sync" else args.threads)
        _step(f"server comparison: {config.describe()}, {args.batch_clients} clients")
        log = work / f"server-{name}.log"
        with AppServer(env=env, port=args.port + 1, config=config, log=log) as app:
            wrk(
                port=args.port + 1,
                accounts_file=accounts_file,
                mix="uniform",
                clients=args.batch_clients,
                seconds=3,
                label=f"warm-{name}{nonce}",
            )
            row = _measured(
                _app_groups(app, app_db),
                wrk,
                port=args.port + 1,
                accounts_file=accounts_file,
                mix="uniform",
                clients=args.batch_clients,
                seconds=args.seconds,
                label=f"server-{name}{nonce}",
            )
        rows[config.describe()] = row
    return rows


def _statements(args, env, server, config, accounts_file: Path, work: Path, nonce: str) -> dict:
    """Statements PostgreSQL receives per single transfer and per batch of the largest size,
    on a server started for this once the timed runs are over (logging every statement costs
    PostgreSQL CPU of its own), counted after a warm-up as the timed runs have one (its workers
    have then read the accounts, which a one-statement transfer needs: `ledger.posting`)."""
    counts = {}
    sizes = [int(size) for size in args.batch_sizes.split(",") if size]
    runs = [("single", lambda **kw: wrk(mix="uniform", **kw))]
    if sizes:
        runs.append((f"batch{max(sizes)}", lambda **kw: wrk_batches(size=max(sizes), **kw)))
    for name, run in runs:
        _step(f"statements per request, {name}")
        log = work / f"server-statements-{name}.log"
        with (
            StatementLog(server, args.app_database) as statements,
            AppServer(env=env, port=args.port + 1, config=config, log=log),
        ):
            run(
                port=args.port + 1,
                accounts_file=accounts_file,
                clients=args.batch_clients,
                seconds=3,
                label=f"statements-warm-{name}{nonce}",
            )
            statements.restart()
            row = run(
                port=args.port + 1,
                accounts_file=accounts_file,
                clients=args.batch_clients,
                seconds=3,
                label=f"statements-{name}{nonce}",
            )
        counts[name] = statements.per_request(row["requests"])
    return counts


def _in_process(result: dict, args, server, accounts, yardstick: Yardstick) -> None:
    """The transfer service, a plain psycopg loop and django-hordak's `transfer_to`, 8 threads
    each, in this process (hordak in a child process), one after the other."""
    seconds = min(args.seconds, 10)
    own = {"app": lambda processes: [os.getpid()]}
    _step("in-process: transfer service, 8 threads")
    result["service"] = _measured(
        {**own, "postgres": pg_backends(args.app_database)},
        service_loop,
        per="transfers",
        accounts=accounts,
        threads=8,
        seconds=seconds,
    )
    _step("in-process: plain psycopg loop, 8 threads")
    result["psycopg_loop"] = _measured(
        {**own, "postgres": pg_backends(Yardstick.DATABASE)},
        yardstick.psycopg_loop,
        per="transfers",
        threads=8,
        seconds=seconds,
    )
    for key in ("service", "psycopg_loop"):
        # This process ran these: its own CPU is the app's; no child ran.
        result[key]["cpu_ms_per_request"].pop("load")
    _step(f"in-process: django-hordak transfer_to, 8 threads ({args.accounts} accounts)")
    hordak = HordakPeer(server)
    hordak.create(accounts=args.accounts)
    row = _measured(
        {"postgres": pg_backends(HordakPeer.DATABASE)},
        hordak.run,
        per="transfers",
        threads=8,
        seconds=seconds,
    )
    # hordak ran in a child process, whose start-up the meter would count too: the script's
    # own figure for its timed part is the library's CPU.
    row["cpu_ms_per_request"].pop("load")
    row["cpu_ms_per_request"]["app"] = row.pop("library_cpu_ms")
    result["hordak"] = row


def _single_runs(args: argparse.Namespace, levels: list[int]) -> list[tuple[str, int]]:
    """The single-transfer runs: every mix at every level, or with --batches-only one uniform
    run at the batch runs' concurrency, to compare with."""
    if args.batches_only:
        return [("uniform", args.batch_clients)]
    return [(mix, clients) for mix in MIXES for clients in levels]


def _step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _add_ratios(result: dict) -> None:
    for key, row in [*result["http"].items(), *result["batches"].items()]:
        # A batch run compares with the yardstick's uniform transfers at its concurrency.
        ceiling = result["yardstick"].get(key if key in result["http"] else _uniform(key))
        if ceiling:
            row["ratio_to_yardstick"] = round(
                row["transfers_per_s"] / ceiling["transfers_per_s"], 3
            )
    targets = {}
    for mix in MIXES:
        row = result["http"].get(f"{mix}/8", {})
        if "ratio_to_yardstick" in row:
            targets[f"http_{mix}_ratio_8"] = row["ratio_to_yardstick"]
    if "uniform/8" in result["http"]:
        targets["p99_ms_8"] = max(
            row["p99_ms"] for key, row in result["http"].items() if key.endswith("/8")
        )
        for name, ms in result["http"]["uniform/8"]["cpu_ms_per_request"].items():
            if f"{name}_cpu_ms_8" in TARGETS:
                targets[f"{name}_cpu_ms_8"] = ms
    if "ratio_to_yardstick" in result["batches"].get("batch100/8", {}):
        targets["batch100_ratio_8"] = result["batches"]["batch100/8"]["ratio_to_yardstick"]
    if "service" in result:
        ratio = result["service"]["transfers_per_s"] / result["psycopg_loop"]["transfers_per_s"]
        targets["service_ratio_8"] = round(ratio, 3)
    if "hordak" in result:
        ratio = result["service"]["transfers_per_s"] / result["hordak"]["transfers_per_s"]
        targets["service_vs_hordak_8"] = round(ratio, 3)
    if "balance" in result:
        targets["balance_ratio"] = result["balance"]["ratio"]
    if result.get("worker_rss_mb"):
        targets["rss_mb"] = max(result["worker_rss_mb"])
    result["targets"] = {
        name: {
            "value": value,
            "target": TARGETS[name],
            "met": value >= TARGETS[name]
            if "ratio_8" in name or name in AT_LEAST
            else value <= TARGETS[name],
        }
        for name, value in targets.items()
    }
    result["targets"]["verify_ledger"] = {"value": result["verify_ledger"]["ok"], "met": True}
    result["targets"]["verify_ledger"]["met"] = result["verify_ledger"]["ok"]


def _uniform(batch_key: str) -> str:
    return "uniform/" + batch_key.split("/")[1]


def _cpu_columns(row: dict) -> str:
    cpu = row.get("cpu_ms_per_transfer") or row.get("cpu_ms_per_request", {})
    return "".join(
        f"{'' if cpu.get(name) is None else f'{cpu[name]:.2f}':>8}"
        for name in ("app", "postgres", "load")
    )


def _print(result: dict) -> None:
    print()
    print(f"{result['server']}; {result['database']}; {result['seconds_per_run']} s per run")
    header = f"{'run':<50}{'transfers/s':>12}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    print(header + f"{'errors':>8}{'vs yardstick':>14}{'app':>8}{'pg':>8}{'load':>8}")
    print(f"{'':<111}{'CPU ms per transfer':>24}")
    sources = ("http", "yardstick", "batches", "servers")
    for source in sources:
        for key, row in result.get(source, {}).items():
            ratio = row.get("ratio_to_yardstick")
            print(
                f"{source + ' ' + key:<50}{row['transfers_per_s']:>12.1f}{row['p50_ms']:>9.2f}"
                f"{row['p95_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['errors']:>8}"
                f"{'' if ratio is None else f'{ratio:.1%}':>14}{_cpu_columns(row)}"
            )
    for key, label in IN_PROCESS.items():
        if key in result:
            row = result[key]
            print(
                f"{label:<50}{row['transfers_per_s']:>12.1f}{'':>9}{'':>9}{'':>9}"
                f"{row.get('errors', 0):>8}{'':>14}{_cpu_columns(row)}"
            )
    for name, counts in result.get("statements", {}).items():
        kinds = ", ".join(f"{kind} {n}" for kind, n in counts["by_kind"].items())
        print(f"statements per request, {name}: {counts['per_request']} ({kinds})")
    if "balance" in result:
        b = result["balance"]
        print(
            f"balance median: {b['long_median_ms']} ms at {b['long_entries']:,} entries, "
            f"{b['short_median_ms']} ms at {b['short_entries']} entries (ratio {b['ratio']})"
        )
    print(f"RSS per worker (MB): {result.get('worker_rss_mb')}")
    print(f"verify_ledger: {result['verify_ledger']['output']}")
    print("targets:")
    for name, target in result["targets"].items():
        bound = target.get("target", "")
        verdict = "met" if target["met"] else "MISSED"
        print(f"  {name:<22}{target['value']!s:>10}  target {bound!s:<6} {verdict}")


IN_PROCESS = {
    "service": "in-process service, 8 threads",
    "hordak": "in-process hordak transfer_to, 8 thr",
    "psycopg_loop": "in-process psycopg loop, 8 threads",
}


def _save(result: dict, name: str) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS_DIR / f"{name}.json"
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {json_path.relative_to(RESULTS_DIR.parent.parent)}")
    try:
        from bench.chart import draw
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no chart")
        return
    png_path = draw(result, RESULTS_DIR / f"{name}.png")
    print(f"wrote {png_path.relative_to(RESULTS_DIR.parent.parent)}")


if __name__ == "__main__":
    sys.exit(main())

"""`make bench` / `make bench-sqlite`: the app under gunicorn with production settings, loaded
by wrk from a separate process, beside the raw-SQL yardstick (pgbench) on the same server;
the transfer service in-process against a plain psycopg loop; the balance endpoint at 10 and
1,000,000 entries; `verify_ledger` at the end. Prints a table, writes JSON and a PNG chart
under bench/results/, and exits 1 when the ledger does not verify."""

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    RESULTS_DIR,
    BenchError,
    Gunicorn,
    PgServer,
    ServerConfig,
    balance_latency,
    django_setup,
    machine,
    manage,
    port_is_free,
    production_env,
    seed_accounts,
    seed_history,
)
from bench.load import Yardstick, service_loop, write_accounts_file, wrk, wrk_batches

APP_DATABASE = "bankledger_bench"
MIXES = ("uniform", "hot")
TARGETS = {
    "http_uniform_ratio_8": 0.20,
    "http_hot_ratio_8": 0.20,
    "service_ratio_8": 0.50,
    "p99_ms_8": 50.0,
    "balance_ratio": 1.2,
    "rss_mb": 150.0,
}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--seconds", type=int, default=15, help="length of each load run")
    parser.add_argument("--levels", default="1,8,32", help="concurrency levels")
    parser.add_argument("--accounts", type=int, default=1000, help="seeded funded accounts")
    parser.add_argument("--history", type=int, default=1_000_000, help="entries, long account")
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="per worker, for gthread")
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
    with Gunicorn(env=env, port=args.port, config=config, log=work / "gunicorn.log") as app:
        _step(f"serving with {config.describe()} on port {args.port}; warming up")
        wrk(
            port=args.port,
            accounts_file=accounts_file,
            mix="uniform",
            clients=8,
            seconds=3,
            label=f"warm{nonce}",
        )
        for mix, clients in _single_runs(args, levels):
            _step(f"HTTP {mix}, {clients} clients")
            result["http"][f"{mix}/{clients}"] = wrk(
                port=args.port,
                accounts_file=accounts_file,
                mix=mix,
                clients=clients,
                seconds=args.seconds,
                label=f"{mix}{clients}-{nonce}",
            )
            if yardstick is not None:
                _step(f"yardstick {mix}, {clients} clients")
                result["yardstick"][f"{mix}/{clients}"] = yardstick.run(
                    mix=mix, clients=clients, seconds=args.seconds
                )
        for size in [int(size) for size in args.batch_sizes.split(",") if size]:
            _step(f"HTTP batches of {size}, {args.batch_clients} clients")
            result["batches"][f"batch{size}/{args.batch_clients}"] = wrk_batches(
                port=args.port,
                accounts_file=accounts_file,
                size=size,
                clients=args.batch_clients,
                seconds=args.seconds,
                label=f"batch{size}-{nonce}",
            )
        if history is not None:
            _step("balance latency, 1,000,000 vs 10 entries")
            result["balance"] = balance_latency(port=args.port, history=history, rounds=1000)
        result["worker_rss_mb"] = [round(size, 1) for size in app.worker_rss_mb()]
    if yardstick is not None:
        _step("in-process: transfer service vs plain psycopg loop, 8 threads")
        seconds = min(args.seconds, 10)
        result["service"] = service_loop(accounts=accounts, threads=8, seconds=seconds)
        result["psycopg_loop"] = yardstick.psycopg_loop(threads=8, seconds=seconds)
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
    if "service" in result:
        ratio = result["service"]["transfers_per_s"] / result["psycopg_loop"]["transfers_per_s"]
        targets["service_ratio_8"] = round(ratio, 3)
    if "balance" in result:
        targets["balance_ratio"] = result["balance"]["ratio"]
    if result.get("worker_rss_mb"):
        targets["rss_mb"] = max(result["worker_rss_mb"])
    result["targets"] = {
        name: {
            "value": value,
            "target": TARGETS[name],
            "met": value >= TARGETS[name] if "ratio_8" in name else value <= TARGETS[name],
        }
        for name, value in targets.items()
    }
    result["targets"]["verify_ledger"] = {"value": result["verify_ledger"]["ok"], "met": True}
    result["targets"]["verify_ledger"]["met"] = result["verify_ledger"]["ok"]


def _uniform(batch_key: str) -> str:
    return "uniform/" + batch_key.split("/")[1]


def _print(result: dict) -> None:
    print()
    print(f"{result['server']}; {result['database']}; {result['seconds_per_run']} s per run")
    header = f"{'run':<22}{'transfers/s':>12}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    print(header + f"{'errors':>8}{'vs yardstick':>14}")
    for source in ("http", "yardstick", "batches"):
        for key, row in result.get(source, {}).items():
            ratio = row.get("ratio_to_yardstick")
            print(
                f"{source + ' ' + key:<22}{row['transfers_per_s']:>12.1f}{row['p50_ms']:>9.2f}"
                f"{row['p95_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['errors']:>8}"
                f"{'' if ratio is None else f'{ratio:.1%}':>14}"
            )
    if "service" in result:
        print(
            f"in-process service, 8 threads: {result['service']['transfers_per_s']:.1f}/s; "
            f"plain psycopg loop: {result['psycopg_loop']['transfers_per_s']:.1f}/s"
        )
    if "balance" in result:
        b = result["balance"]
        print(
            f"balance median: {b['long_median_ms']} ms at {b['long_entries']:,} entries, "
            f"{b['short_median_ms']} ms at {b['short_entries']} entries (ratio {b['ratio']})"
        )
    print(f"RSS per gunicorn worker (MB): {result.get('worker_rss_mb')}")
    print(f"verify_ledger: {result['verify_ledger']['output']}")
    print("targets:")
    for name, target in result["targets"].items():
        bound = target.get("target", "")
        verdict = "met" if target["met"] else "MISSED"
        print(f"  {name:<22}{target['value']!s:>10}  target {bound!s:<6} {verdict}")


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

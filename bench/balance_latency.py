"""Issue 3's check, run by hand on PostgreSQL: the balance endpoint's median latency on an
account with 1,000,000 ledger entries is within 1.2x of the same on one with 10 entries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python -m bench.balance_latency

Makes its own database (bankledger_bench_balance), serves the app under gunicorn with
production settings, prints both medians and the ratio, runs verify_ledger, and exits 1 when
the ratio is above the bound or the ledger does not verify."""

import argparse
import sys
import tempfile
from pathlib import Path

from bench.common import (
    AppServer,
    PgServer,
    ServerConfig,
    balance_latency,
    django_setup,
    manage,
    production_env,
    seed_history,
)

DATABASE = "bankledger_bench_balance"
BOUND = 1.2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2000, help="requests per account")
    parser.add_argument("--port", type=int, default=8151)
    args = parser.parse_args()
    server = PgServer.from_env()
    server.recreate(DATABASE)
    env = production_env(server.url(DATABASE))
    manage(env, "migrate", "--noinput")
    django_setup(env)
    print(f"seeding {args.entries:,} entries ...", flush=True)
    history = seed_history(entries=args.entries)
    with tempfile.TemporaryDirectory() as work:
        log = Path(work) / "gunicorn.log"
        with AppServer(env=env, port=args.port, config=ServerConfig(), log=log):
            result = balance_latency(port=args.port, history=history, rounds=args.rounds)
    verify = manage(env, "verify_ledger", check=False)
    print(
        f"median GET /api/accounts/balance/:id over {args.rounds} requests each:\n"
        f"  {result['long_entries']:>9,} entries: {result['long_median_ms']:.3f} ms\n"
        f"  {result['short_entries']:>9,} entries: {result['short_median_ms']:.3f} ms\n"
        f"  ratio {result['ratio']:.3f} (bound {BOUND})"
    )
    print(verify.stdout.strip())
    return 0 if result["ratio"] <= BOUND and verify.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

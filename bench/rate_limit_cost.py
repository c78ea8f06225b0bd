"""What rate limiting costs on the hot path: CPU and wall time per request of the app process,
in-process through Django's test client (no HTTP, no other process), with the limits off and on,
the counters in the database and in Redis.

    .venv/bin/python -m bench.rate_limit_cost --database sqlite
    DATABASE_URL=postgres://user@host:5432/db .venv/bin/python -m bench.rate_limit_cost \\
        --database postgresql [--redis redis://127.0.0.1:6379/0]

On PostgreSQL the database named by DATABASE_URL is created (if missing) and migrated; the
Redis database is emptied. The modes are interleaved round by round so drift hits all alike."""

import argparse
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"
LIMITS_ON = {"writes": "100000/second", "reads": "100000/second", "register": "20/hour"}
LIMITS_OFF = {"writes": None, "reads": None, "register": None}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--requests", type=int, default=500, help="per mode and round")
    parser.add_argument("--rounds", type=int, default=5)
    return parser.parse_args()


def _environment(database: str) -> None:
    if database == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="rate-cost-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'db.sqlite3'}"
    elif not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("--database postgresql needs DATABASE_URL=postgres://...")
    os.environ.update(
        DEBUG="false",
        JWT_SECRET=secrets.token_urlsafe(48),
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="bankledger.settings",
    )
    os.environ.pop("REDIS_URL", None)


def _create_postgres_database() -> None:
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        if not exists.fetchone():
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def _measure(client, count: int) -> tuple[float, float]:
    """CPU and wall milliseconds per GET /api/accounts."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        response = client.get("/api/accounts")
        if response.status_code != 200:
            raise SystemExit(f"GET /api/accounts answered {response.status_code}")
    return (
        (time.process_time() - cpu) * 1000 / count,
        (time.perf_counter() - wall) * 1000 / count,
    )


def main() -> int:
    args = _arguments()
    _environment(args.database)
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import override_settings
    from rest_framework.test import APIClient

    from accounts.services import account_create
    from users.services import token_issue, user_create

    if args.database == "postgresql":
        _create_postgres_database()
    call_command("migrate", verbosity=0)
    user = user_create(
        email=f"cost-{secrets.token_hex(4)}@example.com", name="Cost", password=secrets.token_hex()
    )
    account_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user)}")
    redis_caches = {"default": {"BACKEND": REDIS_CACHE, "LOCATION": args.redis}}
    modes = {
        "limits off": override_settings(RATE_LIMITS=LIMITS_OFF),
        "database counters": override_settings(
            RATE_LIMITS=LIMITS_ON, RATE_LIMIT_COUNTERS="database"
        ),
        "redis counters": override_settings(
            RATE_LIMITS=LIMITS_ON, RATE_LIMIT_COUNTERS="cache", CACHES=redis_caches
        ),
    }
    with modes["redis counters"]:
        cache.clear()
    results = {name: [] for name in modes}
    for _ in range(args.rounds + 1):  # the first round warms up and is dropped
        for name, mode in modes.items():
            with mode:
                results[name].append(_measure(client, args.requests))
    print(f"{args.database}: GET /api/accounts, {args.requests} x {args.rounds} per mode")
    base_cpu = statistics.median(cpu for cpu, _ in results["limits off"][1:])
    for name, rows in results.items():
        cpu = statistics.median(c for c, _ in rows[1:])
        wall = statistics.median(w for _, w in rows[1:])
        print(f"  {name:<18} CPU {cpu:.3f} ms  wall {wall:.3f} ms  CPU +{cpu - base_cpu:.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

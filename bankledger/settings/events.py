"""Events, their worker, and webhooks (API.md "Events", "Webhooks")."""

from .environment import env

# Webhook URLs must be https and point at public addresses; these lift either rule (local
# development and tests).
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)
# DNS servers asked for webhook hosts, as `address[:port]`, comma-separated; empty: the
# system's (/etc/resolv.conf).
WEBHOOK_DNS_SERVERS = [
    (host, int(port or 53))
    for host, _, port in map(
        lambda item: item.partition(":"), env.list("WEBHOOK_DNS_SERVERS", default=[])
    )
]
WEBHOOK_DNS_TIMEOUT = env.float("WEBHOOK_DNS_TIMEOUT", default=5.0)
# A 2xx within this many seconds is delivered.
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
# A failed delivery is tried again after WEBHOOK_RETRY_BACKOFF seconds, doubling each time up to
# WEBHOOK_RETRY_MAX_DELAY, until WEBHOOK_RETRY_WINDOW seconds have passed since the first
# attempt; then it is FAILED (admin, `manage.py failed_webhooks --resend`).
WEBHOOK_RETRY_BACKOFF = env.float("WEBHOOK_RETRY_BACKOFF", default=30.0)
WEBHOOK_RETRY_MAX_DELAY = env.float("WEBHOOK_RETRY_MAX_DELAY", default=3600.0)
WEBHOOK_RETRY_WINDOW = env.float("WEBHOOK_RETRY_WINDOW", default=24 * 3600.0)
# Deliveries in flight at once per worker, and per endpoint (so one slow endpoint cannot take
# every thread).
WEBHOOK_WORKER_THREADS = env.int("WEBHOOK_WORKER_THREADS", default=8)
WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = env.int("WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT", default=2)
# How long `manage.py events_worker` sleeps when it found nothing to do.
EVENTS_WORKER_INTERVAL = env.float("EVENTS_WORKER_INTERVAL", default=0.2)

"""Moving money in tests through the same service the API uses, and posting in parallel."""

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from django.db import connection

from transactions.services import transfer_create

_keys = itertools.count()


def transfer(sender, receiver, amount, *, initiator=None):
    """A completed (or recorded-failed) transfer from `sender` to `receiver`."""
    return transfer_create(
        initiator=initiator or sender.user,
        from_account_id=str(sender.id),
        to_account_id=str(receiver.id),
        amount=Decimal(str(amount)),
        idempotency_key=f"t-{next(_keys)}",
    ).transaction


def post_in_parallel(calls):
    """POST every (client, url, body) at once from its own thread (and its own database
    connection); return the status codes in order."""
    barrier = threading.Barrier(len(calls))

    def send(call):
        client, url, data = call
        try:
            barrier.wait()
            return client.post(url, data, format="json").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, calls))

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import Error, close_old_connections

from bankledger.events import consumers
from bankledger.events.delivery import DeliveryDispatcher
from bankledger.events.services import events_sequence


class Command(BaseCommand):
    help = (
        "Number committed events in commit order, feed them to their consumers (webhook "
        "deliveries, email notices, ...) and send the webhook deliveries that are due. Runs "
        "until stopped (SIGTERM or Ctrl-C); `make run` starts one beside db_worker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="one pass, wait for the deliveries it started, then exit",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds to sleep when there is nothing to do (EVENTS_WORKER_INTERVAL)",
        )

    def handle(self, *, once: bool, interval: float | None, **options):
        interval = settings.EVENTS_WORKER_INTERVAL if interval is None else interval
        self._stopping = False
        if not once:
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
        dispatcher = DeliveryDispatcher()
        try:
            while not self._stopping:
                busy = self._pass(dispatcher)
                if once:
                    while dispatcher.in_flight():
                        time.sleep(0.05)
                    break
                if not busy:
                    dispatcher.wait(interval)
        finally:
            dispatcher.shutdown()

    def _pass(self, dispatcher: DeliveryDispatcher) -> bool:
        """One round of numbering and dispatching; a database error is logged and waited out."""
        close_old_connections()
        try:
            numbered = 0
            while (count := events_sequence()) > 0:
                numbered += count
            started = dispatcher.dispatch()
            consumers.periodic_run()
            return bool(numbered or started)
        except Error as exc:  # DatabaseError and InterfaceError (a connection already closed)
            self.stderr.write(f"events worker: database error, retrying: {exc}")
            return False

    def _stop(self, *args):
        self._stopping = True

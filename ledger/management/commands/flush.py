from django.core.management.commands import flush
from django.db import connections

from ledger import triggers


class Command(flush.Command):
    """Django's `flush`, which empties every table, with the immutability triggers of the
    ledger and of the public log lifted for the wipe and put back after it. Wiping the whole
    database is an operator's deliberate act (and what transactional tests do between tests);
    every other change to a ledger entry or the log is still refused by the database."""

    def handle(self, **options):
        connection = connections[options["database"]]
        for rule in triggers.EVERY:
            rule.uninstall(connection)
        try:
            super().handle(**options)
        finally:
            for rule in triggers.EVERY:
                rule.install(connection)

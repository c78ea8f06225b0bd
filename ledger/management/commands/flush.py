from django.core.management.commands import flush
from django.db import connections

from ledger import triggers


class Command(flush.Command):
    """Django's `flush`, which empties every table, with the ledger's immutability triggers
    lifted for the wipe and put back after it. Wiping the whole database is an operator's
    deliberate act (and what transactional tests do between tests); every other delete of a
    ledger entry is still refused by the database."""

    def handle(self, **options):
        connection = connections[options["database"]]
        triggers.uninstall(connection)
        try:
            super().handle(**options)
        finally:
            triggers.install(connection)

from django.apps import AppConfig
from django.conf import settings


class LedgerConfig(AppConfig):
    name = "ledger"

    def ready(self):
        from bankledger.events.consumers import consumer_register, periodic_register
        from ledger.log.consumers import log_entries_append
        from ledger.log.services import log_checkpoint_create

        consumer_register("public_log", log_entries_append)
        periodic_register("log_checkpoint", settings.LOG_INTERVAL, log_checkpoint_create)

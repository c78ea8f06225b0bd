from django.apps import AppConfig

# Seconds between two passes of the events worker over the expired holds.
HOLD_EXPIRY_INTERVAL = 5


class TransactionsConfig(AppConfig):
    name = "transactions"

    def ready(self):
        from bankledger.events.consumers import consumer_register, periodic_register
        from transactions.consumers import transfer_emails_enqueue
        from transactions.hold_services import holds_expire_due

        consumer_register("transfer_emails", transfer_emails_enqueue)
        # Marks expired holds EXPIRED with their events (display only: an expired hold stopped
        # counting at its expiresAt already).
        periodic_register("expire_holds", HOLD_EXPIRY_INTERVAL, holds_expire_due)

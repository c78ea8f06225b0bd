from django.apps import AppConfig


class TransactionsConfig(AppConfig):
    name = "transactions"

    def ready(self):
        from bankledger.events.consumers import consumer_register
        from transactions.consumers import transfer_emails_enqueue

        consumer_register("transfer_emails", transfer_emails_enqueue)

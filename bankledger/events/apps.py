from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Events (one row per change, numbered in commit order after the commit), their consumers,
    and webhooks, the consumer that POSTs them to the users' endpoints."""

    name = "bankledger.events"
    label = "events"
    verbose_name = "Events and webhooks"

    def ready(self):
        from bankledger.events import consumers, webhooks

        consumers.consumer_register("webhooks", webhooks.webhook_deliveries_create)

from django.apps import AppConfig


class MailConfig(AppConfig):
    """Outgoing email: an outbox of rendered messages, delivered by a background task."""

    name = "bankledger.mail"
    label = "mail"
    verbose_name = "Email"

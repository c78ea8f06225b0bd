from bankledger.core.errors import ApplicationError


class InvalidWebhookUrl(ApplicationError):
    """Not an https URL (unless WEBHOOK_ALLOW_HTTP), or one whose host is or resolves to a
    loopback, private, link-local, multicast or otherwise non-public address (unless
    WEBHOOK_ALLOW_PRIVATE_NETWORKS)."""

    code = "invalid_url"
    message = "The webhook URL is not allowed."


class WebhookNotFound(ApplicationError):
    """No such webhook, or not the caller's."""

    status_code = 404
    code = "not_found"
    message = "Webhook not found."


class UnknownEventType(ApplicationError):
    """A `type` or `events` entry that is not one of API.md's event types."""

    code = "invalid_input"
    message = "Unknown event type."

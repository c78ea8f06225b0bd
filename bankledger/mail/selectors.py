"""Reads for outgoing email."""

from django.db.models import QuerySet

from bankledger.mail.models import Email


def email_failed_list() -> QuerySet[Email]:
    """Emails that ran out of attempts, oldest first."""
    return Email.objects.filter(status=Email.Status.FAILED).order_by("created_at")

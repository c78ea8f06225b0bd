"""Background tasks for outgoing email, run by `manage.py db_worker`."""

from django_tasks import task

from bankledger.mail import services


@task()
def email_send(email_id: str) -> str:
    """Deliver one outbox email: a first attempt, a scheduled retry, or a re-send."""
    return services.email_deliver(email_id=email_id, send_task=email_send)


def email_deliver_now(*, email_id: str) -> str:
    """The first attempt, from another task; failures are retried on `email_send`."""
    return services.email_deliver(email_id=email_id, send_task=email_send)


def email_resend(*, email_ids: list) -> int:
    """Queue FAILED emails again (the admin's and `failed_emails --resend`'s action)."""
    return services.email_resend(email_ids=email_ids, send_task=email_send)

"""Background tasks for outgoing email, run by `manage.py db_worker`."""

from django_tasks import task

# `services` imports this module too; both only use each other at call time.
from bankledger.mail import services


@task()
def email_send(email_id: str) -> str:
    """Deliver one outbox email: a first attempt, a scheduled retry, or a re-send."""
    return services.email_deliver(email_id=email_id)

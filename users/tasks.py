"""Background tasks for users, run by `manage.py db_worker`."""

from django_tasks import task

from bankledger.mail.services import email_create
from bankledger.mail.tasks import email_deliver_now
from users.models import User


@task()
def welcome_email_send(user_id: str) -> str:
    """Write the welcome email of a newly registered user into the outbox and send it."""
    user = User.objects.get(id=user_id)
    email = email_create(
        key=f"welcome:{user.id}",
        to=user.email,
        template="emails/welcome",
        context={"name": user.name, "email": user.email},
    )
    return email_deliver_now(email_id=str(email.id))

from django.core.management.base import BaseCommand

from bankledger.mail.selectors import email_failed_list
from bankledger.mail.tasks import email_resend


class Command(BaseCommand):
    help = "List emails that ran out of attempts; with --resend, queue them for the worker again."

    def add_arguments(self, parser):
        parser.add_argument("--resend", action="store_true", help="queue every listed email again")

    def handle(self, *, resend: bool, **options):
        failed = list(email_failed_list())
        for email in failed:
            self.stdout.write(
                f"{email.id}  {email.created_at:%Y-%m-%d %H:%M:%S}  {email.to}  {email.key}  "
                f"attempts={email.attempts}  {email.last_error.split(chr(10), 1)[0][:120]}"
            )
        if resend:
            count = email_resend(email_ids=[email.id for email in failed])
            self.stdout.write(f"{count} email(s) queued again; `manage.py db_worker` sends them.")
        else:
            self.stdout.write(f"{len(failed)} failed email(s).")

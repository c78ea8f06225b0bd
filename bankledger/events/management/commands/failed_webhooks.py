from django.core.management.base import BaseCommand

from bankledger.events.delivery import webhook_delivery_resend
from bankledger.events.selectors import webhook_delivery_failed_list


class Command(BaseCommand):
    help = (
        "List webhook deliveries that ran out of retries; with --resend, queue them for "
        "`manage.py events_worker` again with a fresh retry window."
    )

    def add_arguments(self, parser):
        parser.add_argument("--resend", action="store_true", help="queue every listed delivery")

    def handle(self, *, resend: bool, **options):
        failed = list(webhook_delivery_failed_list())
        for delivery in failed:
            self.stdout.write(
                f"{delivery.id}  {delivery.created_at:%Y-%m-%d %H:%M:%S}  {delivery.event.type}  "
                f"{delivery.event.uid}  {delivery.webhook.url}  attempts={delivery.attempts}  "
                f"{delivery.last_error[:120]}"
            )
        if resend:
            count = webhook_delivery_resend(delivery_ids=[d.id for d in failed])
            self.stdout.write(f"{count} delivery(ies) queued again.")
        else:
            self.stdout.write(f"{len(failed)} failed delivery(ies).")

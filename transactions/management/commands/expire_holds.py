from django.core.management.base import BaseCommand

from transactions.hold_services import holds_expire_due


class Command(BaseCommand):
    help = (
        "Mark every PENDING hold past its expiresAt EXPIRED and write its hold.expired event. "
        "For display and events only: an expired hold stops reserving money at its expiresAt "
        "whether or not this runs (the events worker also runs it every few seconds)."
    )

    def handle(self, **options):
        total = 0
        while count := holds_expire_due():
            total += count
        self.stdout.write(f"{total} hold(s) marked EXPIRED.")

from django.core.management.base import BaseCommand

from ledger.log.selectors import log_size
from ledger.log.services import log_checkpoint_create


class Command(BaseCommand):
    help = (
        "Sign a checkpoint of the public log now, if the log grew since the last one (the worker "
        "does this every LOG_INTERVAL seconds)."
    )

    def handle(self, *args, **options):
        checkpoint = log_checkpoint_create()
        if checkpoint is None:
            self.stdout.write(f"The log did not grow (size {log_size()}); no checkpoint signed.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Signed checkpoint {checkpoint.tree_size}: root "
                f"{bytes(checkpoint.root_hash).hex()}, key {checkpoint.key_id}."
            )
        )

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from ledger.selectors import ledger_verify


class Command(BaseCommand):
    help = (
        "Prove the ledger whole: every stored balance equals credits minus debits and the last "
        "entry's balance-after; every transaction balances; balances sum to zero per currency; "
        "every batch posted all its items or none; every entry was posted while its account was "
        "ACTIVE; every leaf of the public log rebuilt from the "
        "ledger matches what was signed, up to the latest checkpoint's root. "
        "Exits 1 on any mismatch."
    )

    def handle(self, *args, **options):
        if connection.vendor == "postgresql":
            # Its aggregates over the whole ledger may outlast a request's statement timeout.
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = 0")
        report = ledger_verify()
        self.stdout.write(
            f"Checked {report.accounts} accounts and {report.entries} ledger entries."
        )
        self.stdout.write(
            f"Checked {report.log_leaves} log leaves and the root of the latest checkpoint "
            f"(tree size {report.log_checkpoint_size})."
        )
        problems = [
            ("Balance mismatches", report.balance_mismatches),
            ("Unbalanced transactions", report.unbalanced_transactions),
            ("Currencies whose balances do not sum to zero", report.nonzero_currencies),
            ("Batches that are not all or nothing", report.incomplete_batches),
            ("Holds that do not match their captures or limits", report.hold_problems),
            ("Entries posted while their account was not ACTIVE", report.inactive_entries),
            ("The public log no longer matches the ledger", report.log_mismatches),
        ]
        for title, rows in problems:
            if rows:
                self.stdout.write(f"{title}:")
                for row in rows:
                    self.stdout.write(f"  {row}")
        if not report.ok:
            ledger_sound = not any(rows for _, rows in problems[:-1])
            message = (
                "The ledger no longer matches what its log signed."
                if ledger_sound
                else "The ledger does not balance."
            )
            raise CommandError(message, returncode=1)
        self.stdout.write(self.style.SUCCESS("Ledger OK."))

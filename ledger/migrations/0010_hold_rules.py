import dataclasses

from django.db import migrations

from ledger import triggers

_HOLDS = {rule.name: rule for rule in triggers.HOLDS}
# Widened here: the terms now include the fingerprint, expiry span, creation time and failure
# columns; a void, like a capture, only before the expiry; a capture of the hold's currency.
_WIDENED = [_HOLDS["holds_terms_immutable"], _HOLDS["holds_expiry"], triggers.CAPTURE_LINK]
# As 0006 and 0005 (transactions) installed them, for going back.
_NARROW = [
    dataclasses.replace(
        _HOLDS["holds_terms_immutable"],
        when=" OR ".join(
            f"OLD.{c} <> NEW.{c} OR (OLD.{c} IS NULL) <> (NEW.{c} IS NULL)"
            for c in (
                "amount",
                "currency",
                "from_account_id",
                "to_account_id",
                "expires_at",
                "initiator_id",
                "idempotency_key",
                "reference",
                "metadata",
            )
        ),
    ),
    dataclasses.replace(
        _HOLDS["holds_expiry"],
        when="(NEW.status = 'CAPTURED' AND OLD.expires_at <= {now})"
        " OR (NEW.status = 'EXPIRED' AND OLD.expires_at > {now})",
    ),
    dataclasses.replace(
        triggers.CAPTURE_LINK,
        when=triggers.CAPTURE_LINK.when.replace(" AND t.currency = NEW.currency", ""),
    ),
]


def _replace(rules):
    # SQLite has no CREATE OR REPLACE TRIGGER: each is dropped and written again.
    def run(apps, schema_editor):
        for rule in rules:
            rule.uninstall(schema_editor.connection)
            rule.install(schema_editor.connection)

    return run


class Migration(migrations.Migration):
    """How a hold may be written and change, held by the database beyond 0006's rules."""

    dependencies = [
        ("ledger", "0009_has_holds"),
        ("transactions", "0005_captures"),
        ("users", "0004_api_key"),
    ]

    operations = [
        migrations.RunPython(_replace(_WIDENED), _replace(_NARROW)),
        *(rule.operation() for rule in triggers.HOLD_WRITES),
    ]

"""Batches (all or nothing), and a reference and metadata on every transaction: immutable
(triggers from `transactions/triggers.py`), found by an index (on PostgreSQL a GIN index on the
metadata, which serves `metadata @> {"KEY": "VALUE"}`)."""

import bankledger.core.annotations
import django.db.models.deletion
import django.db.models.functions.text
import django.db.models.lookups
import uuid
from django.conf import settings
from django.db import migrations, models

from transactions import triggers

GIN_INDEX = "transactions_metadata_gin"


def gin_index_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX {GIN_INDEX} ON transactions_transaction USING gin (metadata jsonb_path_ops)"
        )


def gin_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_closed_is_final"),
        ("transactions", "0003_reversal"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="transaction",
            name="batch_index",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="transaction",
            name="metadata",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="transaction",
            name="reference",
            field=models.CharField(blank=True, max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.CreateModel(
            name="Batch",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("TRANSFER", "Transfer"),
                            ("INITIAL_FUNDS", "Initial Funds"),
                            ("REVERSAL", "Reversal"),
                        ],
                        max_length=13,
                    ),
                ),
                ("idempotency_key", models.CharField(max_length=255)),
                ("fingerprint", models.CharField(max_length=128)),
                (
                    "status",
                    models.CharField(
                        choices=[("COMPLETED", "Completed"), ("FAILED", "Failed")], max_length=9
                    ),
                ),
                ("size", models.PositiveIntegerField(help_text="How many items the request had.")),
                ("failure_code", models.CharField(blank=True, default="", max_length=64)),
                ("failure_message", models.CharField(blank=True, default="", max_length=255)),
                (
                    "failure_index",
                    models.PositiveIntegerField(
                        blank=True, help_text="The first refused item (0-based).", null=True
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "initiator",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="batches",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "batches",
            },
        ),
        migrations.AddField(
            model_name="transaction",
            name="batch",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transactions",
                to="transactions.batch",
            ),
        ),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(fields=["reference"], name="transactions_reference_idx"),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("batch__isnull", True),
                        ("batch_index__isnull", True),
                        ("idempotency_key__isnull", False),
                    ),
                    models.Q(
                        ("batch__isnull", False),
                        ("batch_index__isnull", False),
                        ("idempotency_key__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="transactions_key_or_batch_item",
            ),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.UniqueConstraint(
                fields=("batch", "batch_index"), name="transactions_one_item_per_batch_index"
            ),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reference__isnull", True),
                    django.db.models.lookups.Range(
                        django.db.models.functions.text.Length("reference"), (1, 128)
                    ),
                    _connector="OR",
                ),
                name="transactions_reference_length",
            ),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.Exact(
                    bankledger.core.annotations.JSONType("metadata"), "object"
                ),
                name="transactions_metadata_is_object",
            ),
        ),
        migrations.AddConstraint(
            model_name="batch",
            constraint=models.UniqueConstraint(
                fields=("initiator", "idempotency_key"), name="batches_idempotency_key_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="batch",
            constraint=models.CheckConstraint(
                condition=models.Q(("idempotency_key", ""), _negated=True),
                name="batches_idempotency_key_not_empty",
            ),
        ),
        migrations.AddConstraint(
            model_name="batch",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["COMPLETED", "FAILED"])),
                name="batches_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="batch",
            constraint=models.CheckConstraint(
                condition=models.Q(("size__gte", 1)), name="batches_not_empty"
            ),
        ),
        migrations.AddConstraint(
            model_name="batch",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("failure_code__gt", ""),
                        ("failure_index__isnull", False),
                        ("failure_index__lt", models.F("size")),
                        ("status", "FAILED"),
                    ),
                    models.Q(
                        ("failure_code", ""),
                        ("failure_index__isnull", True),
                        ("status", "COMPLETED"),
                    ),
                    _connector="OR",
                ),
                name="batches_failure_iff_failed",
            ),
        ),
        *(rule.operation() for rule in triggers.RULES),
        migrations.RunPython(gin_index_create, gin_index_drop),
    ]

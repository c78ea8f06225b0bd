from django.db import migrations, models

import bankledger.core.ids


class Migration(migrations.Migration):
    """New emails get time-ordered ids (bankledger.core.ids.new_id). Only the Python default
    changes, so the database is left as it is (Django would rebuild the table on SQLite)."""

    dependencies = [("mail", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="email",
                    name="id",
                    field=models.UUIDField(
                        default=bankledger.core.ids.new_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                )
            ]
        )
    ]

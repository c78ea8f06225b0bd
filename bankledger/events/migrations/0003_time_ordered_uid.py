from django.db import migrations, models

import bankledger.core.ids


class Migration(migrations.Migration):
    """New events get time-ordered uids (bankledger.core.ids.new_id). Only the Python default
    changes, so the database is left as it is: Django would rebuild the table on SQLite for it,
    and with the table its triggers."""

    dependencies = [("events", "0002_immutable_events")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="uid",
                    field=models.UUIDField(
                        default=bankledger.core.ids.new_id, editable=False, unique=True
                    ),
                )
            ]
        )
    ]

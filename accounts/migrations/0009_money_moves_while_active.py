from django.db import migrations, models
from django.utils import timezone

from accounts.triggers import ACTIVE_ONLY


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_identity_fixed")]

    operations = [
        ACTIVE_ONLY.operation(),
        # Stamped by the service, after the account's lock, later than its last change. The
        # column is as it was (the value was always written by Django): state only, so SQLite
        # does not rebuild the table.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="accountstatuschange",
                    name="created_at",
                    field=models.DateTimeField(default=timezone.now, editable=False),
                )
            ]
        ),
    ]

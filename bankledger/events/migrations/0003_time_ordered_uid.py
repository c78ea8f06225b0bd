from django.db import migrations

from bankledger.core.ids import new_id_default


class Migration(migrations.Migration):
    """New events get time-ordered uids (bankledger.core.ids.new_id)."""

    dependencies = [("events", "0002_immutable_events")]

    operations = [new_id_default("event", "uid")]

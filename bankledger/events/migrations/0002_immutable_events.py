from django.db import migrations

from bankledger.events.triggers import IMMUTABLE


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]

    operations = [IMMUTABLE.operation()]

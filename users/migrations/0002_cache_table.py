from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # The login-throttle counters live in the database cache unless REDIS_URL is set; creating
    # its table here means every migrated database (tests included) has it.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("users", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]

from django.db import migrations

from accounts.triggers import IDENTITY


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_limit_history_rules")]

    operations = [rule.operation() for rule in IDENTITY]

import django.db.models.deletion
from django.db import migrations, models

from bankledger.core.indexes import own_index_dropped


class Migration(migrations.Migration):
    """A leg's account and transaction lose their own indexes: the (account, id), (account,
    created_at, id) and (transaction, account, type) indexes lead with them."""

    dependencies = [
        ("accounts", "0005_limits"),
        ("ledger", "0006_hold"),
        ("transactions", "0006_metadata_limits"),
    ]

    operations = [
        own_index_dropped(
            "ledger",
            migrations.AlterField(
                model_name="ledgerentry",
                name="account",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="entries",
                    to="accounts.account",
                ),
            ),
        ),
        own_index_dropped(
            "ledger",
            migrations.AlterField(
                model_name="ledgerentry",
                name="transaction",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="entries",
                    to="transactions.transaction",
                ),
            ),
        ),
    ]

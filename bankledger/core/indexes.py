"""A foreign key's own index dropped without the table rebuild that SQLite would do for it."""

from django.db import migrations


def own_index_dropped(app_label: str, alter: migrations.AlterField):
    """`alter` (the field, now `db_index=False`) for the migration state; for the database,
    only the DROP INDEX of the field's own single-column index. Django alters a field on SQLite
    by rebuilding its table, which would drop the table's triggers with it (the ledger's and
    the transactions' rules are triggers). The schema editor's helpers name and find the index
    exactly as Django created it, on PostgreSQL and SQLite alike."""

    def _field(apps):
        model = apps.get_model(app_label, alter.model_name)
        return model, model._meta.get_field(alter.name)

    def drop(apps, schema_editor):
        model, field = _field(apps)
        names = schema_editor._constraint_names(
            model, [field.column], index=True, unique=False, primary_key=False
        )
        for name in names:
            schema_editor.execute(schema_editor._delete_index_sql(model, name))

    def create(apps, schema_editor):
        model, field = _field(apps)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    return migrations.SeparateDatabaseAndState(
        state_operations=[alter],
        database_operations=[migrations.RunPython(drop, create)],
    )

"""Plain-SQL statements for the money path, where the ORM's query building is the cost.

Profiled on the transfer service (see the performance issue's note): building an INSERT
through `Model.save()` or a locking SELECT through a QuerySet costs several times the Python
of the statement itself. These helpers keep Django's own field conversions
(`get_db_prep_save`, `pre_save`), so the values written are exactly what `save()` would write,
on PostgreSQL and SQLite alike."""

from functools import cache

from django.db import connection


@cache
def _insert_statement(model) -> tuple[list, str]:
    fields = list(model._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = model._meta.db_table
    return fields, f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"


def row_insert(instance) -> None:
    """INSERT `instance` as `save(force_insert=True)` would, minus the query building. Raises
    the same `IntegrityError` when a constraint refuses the row."""
    fields, sql = _insert_statement(type(instance))
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
    instance._state.adding = False
    instance._state.db = connection.alias

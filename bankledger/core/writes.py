"""Several writes of one database transaction in one round trip.

A posting writes its transaction row, its legs, the accounts' balances and its events: four
statements that depend on nothing the others return. On PostgreSQL they go to the server as one
statement, each earlier write a data-modifying WITH clause of the last, so the server parses,
plans (once, when prepared) and answers one statement instead of four. The statement succeeds
or fails as a whole, like the four would inside the caller's transaction. SQLite has no
data-modifying WITH: there they run one after the other, in the order they were added.

Several rows of one table go to PostgreSQL as one array per column (`unnest`), not as a VALUES
list: the statement's text is then the same for any number of rows, so it is prepared once
and its parameters stay few, where a batch of 100 as VALUES is a new statement of some 2,000
parameters that the driver rewrites and the server parses and plans on every request."""

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

# The text of each INSERT, by database, model, columns and rows (0: as arrays).
_INSERTS: dict[tuple, str] = {}


def cast_type(field: models.Field, db: BaseDatabaseWrapper) -> str:
    """The type a parameter is cast to before it is written to `field`'s column: the column's
    own, but text for a length-limited string, which an explicit cast to `varchar(n)` would cut
    short in silence where the INSERT's own conversion refuses a value too long."""
    db_type = field.db_type(db)
    return "text" if db_type.startswith("varchar") else db_type


class Writes:
    """Data-modifying statements to run, in order, in the caller's database transaction.

    All parts of one PostgreSQL statement see the same snapshot and the effects of none of the
    others, so a statement that must see an earlier write (a trigger that reads a row added
    here) runs after `flush`."""

    def __init__(self, db: BaseDatabaseWrapper):
        self.db = db
        self._parts: list[tuple[str, list]] = []

    def add(self, sql: str, params: list) -> None:
        self._parts.append((sql, params))

    def extend(self, other: "Writes") -> None:
        """Add `other`'s writes, in their order, after these."""
        self._parts.extend(other._parts)

    def insert(self, model, fields: tuple[models.Field, ...], rows: list[list]) -> None:
        """INSERT `rows` of `model`, each a list of database values in `fields` order. One
        transfer's rows (its legs are two) stay a short VALUES list, which the driver converts
        faster than arrays."""
        arrays = self.db.vendor == "postgresql" and len(rows) > 2
        key = (self.db.vendor, model, fields, 0 if arrays else len(rows))
        sql = _INSERTS.get(key) or _INSERTS.setdefault(key, self._insert_sql(model, fields, key))
        if arrays:
            self.add(sql, [list(column) for column in zip(*rows, strict=True)])
        else:
            self.add(sql, [value for row in rows for value in row])

    def _insert_sql(self, model, fields, key) -> str:
        quote, count = self.db.ops.quote_name, key[-1]
        columns = ", ".join(quote(field.column) for field in fields)
        head = f"INSERT INTO {quote(model._meta.db_table)} ({columns})"
        if not count:
            arrays = ", ".join(f"%b::{cast_type(field, self.db)}[]" for field in fields)
            return f"{head} SELECT * FROM unnest({arrays})"  # noqa: S608 (names, types)
        row = f"({', '.join(['%s'] * len(fields))})"
        return f"{head} VALUES {', '.join([row] * count)}"

    def flush(self) -> None:
        parts, self._parts = self._parts, []
        if not parts:
            return
        with self.db.cursor() as cursor:
            if self.db.vendor != "postgresql":
                for sql, params in parts:
                    cursor.execute(sql, params)
                return
            *earlier, (last, _) = parts
            clauses = ", ".join(f"w{index} AS ({sql})" for index, (sql, _) in enumerate(earlier))
            head = f"WITH {clauses} " if earlier else ""
            cursor.execute(head + last, [value for _, params in parts for value in params])

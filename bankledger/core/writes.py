"""Several writes of one database transaction in one round trip.

A posting writes its transaction row, its legs, the accounts' balances and its events: four
statements that depend on nothing the others return. On PostgreSQL they go to the server as one
statement, each earlier write a data-modifying WITH clause of the last, so the server parses,
plans (once, when prepared) and answers one statement instead of four. The statement succeeds
or fails as a whole, like the four would inside the caller's transaction. SQLite has no
data-modifying WITH: there they run one after the other, in the order they were added."""

from django.db.backends.base.base import BaseDatabaseWrapper


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

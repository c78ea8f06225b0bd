"""Row rules that a CHECK constraint cannot express (it never sees the old row), written once
for PostgreSQL and SQLite alike: a trigger that refuses an UPDATE or DELETE, optionally only
when a condition on `OLD` and `NEW` holds (`Refusal`), or one that writes what the database
itself must keep up to date after a row is written (`Reaction`). Apps declare them here and
install them from a migration with `.operation()`."""

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import migrations


@dataclass(frozen=True)
class Trigger:
    """A trigger named `name` on `event` ("INSERT", "UPDATE" or "DELETE") of `table`."""

    name: str
    table: str
    event: str

    def install_sql(self, vendor: str) -> list[str]:
        raise NotImplementedError

    def uninstall_sql(self, vendor: str) -> list[str]:
        if vendor == "postgresql":
            return [
                f"DROP TRIGGER IF EXISTS {self.name} ON {self.table}",
                f"DROP FUNCTION IF EXISTS {self.name}()",
            ]
        return [f"DROP TRIGGER IF EXISTS {self.name}"]

    def install(self, connection) -> None:
        _execute(connection, self.install_sql(connection.vendor))

    def uninstall(self, connection) -> None:
        _execute(connection, self.uninstall_sql(connection.vendor))

    def operation(self) -> migrations.RunPython:
        """The migration operation that installs this trigger (and removes it when reversed)."""
        return migrations.RunPython(
            lambda apps, schema_editor: self.install(schema_editor.connection),
            lambda apps, schema_editor: self.uninstall(schema_editor.connection),
        )


@dataclass(frozen=True)
class Refusal(Trigger):
    """Refuse `event` on `table` with `message`, when `when` holds (a condition in the SQL
    that both databases share, e.g. `OLD.status = 'CLOSED'`, or one per vendor), or always.
    `errcode` is the PostgreSQL SQLSTATE name the refusal is raised with."""

    message: str
    # One condition for both databases, or one per vendor where their SQL differs (JSON).
    when: str | Mapping[str, str] = ""
    errcode: str = "restrict_violation"

    @property
    def literal(self) -> str:
        """The message inside an SQL string literal (both databases double a quote)."""
        return self.message.replace("'", "''")

    def install_sql(self, vendor: str) -> list[str]:
        condition = self.when.get(vendor, "") if isinstance(self.when, Mapping) else self.when
        when = f" WHEN ({condition})" if condition else ""
        if vendor == "postgresql":
            return [
                f"""CREATE OR REPLACE FUNCTION {self.name}() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION '{self.literal}' USING ERRCODE = '{self.errcode}'; END
                $$ LANGUAGE plpgsql""",
                f"""CREATE OR REPLACE TRIGGER {self.name} BEFORE {self.event} ON {self.table}
                FOR EACH ROW{when} EXECUTE FUNCTION {self.name}()""",
            ]
        if vendor == "sqlite":
            return [
                f"""CREATE TRIGGER IF NOT EXISTS {self.name} BEFORE {self.event} ON {self.table}
                FOR EACH ROW{when} BEGIN SELECT RAISE(ABORT, '{self.literal}'); END"""
            ]
        raise NotImplementedError(f"No triggers for the {vendor} backend.")


@dataclass(frozen=True)
class Reaction(Trigger):
    """After each row of `event` on `table` for which `when` holds, run `statement` (one SQL
    statement that both databases share, reading `NEW`)."""

    statement: str
    when: str = ""

    def install_sql(self, vendor: str) -> list[str]:
        when = f" WHEN ({self.when})" if self.when else ""
        if vendor == "postgresql":
            return [
                f"""CREATE OR REPLACE FUNCTION {self.name}() RETURNS trigger AS $$
                BEGIN {self.statement}; RETURN NULL; END
                $$ LANGUAGE plpgsql""",
                f"""CREATE OR REPLACE TRIGGER {self.name} AFTER {self.event} ON {self.table}
                FOR EACH ROW{when} EXECUTE FUNCTION {self.name}()""",
            ]
        if vendor == "sqlite":
            return [
                f"""CREATE TRIGGER IF NOT EXISTS {self.name} AFTER {self.event} ON {self.table}
                FOR EACH ROW{when} BEGIN {self.statement}; END"""
            ]
        raise NotImplementedError(f"No triggers for the {vendor} backend.")


def _execute(connection, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)

"""The database refuses any UPDATE or DELETE of a ledger entry, even from raw SQL, on PostgreSQL
and SQLite alike; likewise for the public log's tables, where it also refuses a leaf anywhere but
at the next position and a checkpoint that does not grow the last one or exceeds the log.
Installed by migrations; `flush` (overridden in this app) lifts them all for the length of a
deliberate wipe of the whole database."""

from dataclasses import dataclass

from bankledger.core.triggers import Refusal
from ledger.models import Checkpoint, LedgerEntry, LogKey, LogLeaf, LogNode

MESSAGE = "ledger entries are immutable"

IMMUTABLE = [
    Refusal(
        name=f"ledger_entry_no_{event.lower()}",
        table=LedgerEntry._meta.db_table,
        event=event,
        message=MESSAGE,
    )
    for event in ("UPDATE", "DELETE")
]


@dataclass(frozen=True)
class InsertGuard(Refusal):
    """A Refusal of INSERT whose condition may read other rows. SQLite accepts a subquery in a
    trigger's WHEN; PostgreSQL does not, so there the condition is tested in the function."""

    def install_sql(self, vendor: str) -> list[str]:
        if vendor != "postgresql":
            return super().install_sql(vendor)
        return [
            f"""CREATE OR REPLACE FUNCTION {self.name}() RETURNS trigger AS $$
            BEGIN
                IF {self.when} THEN
                    RAISE EXCEPTION '{self.message}' USING ERRCODE = '{self.errcode}';
                END IF;
                RETURN NEW;
            END
            $$ LANGUAGE plpgsql""",
            f"""CREATE OR REPLACE TRIGGER {self.name} BEFORE INSERT ON {self.table}
            FOR EACH ROW EXECUTE FUNCTION {self.name}()""",
        ]


LOG_MESSAGE = "the public log is append-only"
_LEAVES, _CHECKPOINTS = LogLeaf._meta.db_table, Checkpoint._meta.db_table
_NEXT_LEAF = f"(SELECT COALESCE(MAX(log_index) + 1, 0) FROM {_LEAVES})"  # noqa: S608 (constant)

LOG = [
    *(
        Refusal(
            name=f"{model._meta.db_table}_no_{event.lower()}",
            table=model._meta.db_table,
            event=event,
            message=LOG_MESSAGE,
        )
        for model in (LogKey, LogLeaf, LogNode, Checkpoint)
        for event in ("UPDATE", "DELETE")
    ),
    InsertGuard(
        name=f"{_LEAVES}_next_position",
        table=_LEAVES,
        event="INSERT",
        message="log leaves are appended at the next position only",
        when=f"NEW.log_index <> {_NEXT_LEAF}",
    ),
    InsertGuard(
        name=f"{_CHECKPOINTS}_grows",
        table=_CHECKPOINTS,
        event="INSERT",
        message="a checkpoint must grow the last one and stay within the log",
        when=(
            f"NEW.tree_size > {_NEXT_LEAF} OR NEW.tree_size <= "  # noqa: S608 (constant)
            f"(SELECT COALESCE(MAX(tree_size), 0) FROM {_CHECKPOINTS})"
        ),
    ),
]
EVERY = [*IMMUTABLE, *LOG]


def install(connection) -> None:
    for rule in IMMUTABLE:
        rule.install(connection)


def uninstall(connection) -> None:
    for rule in IMMUTABLE:
        rule.uninstall(connection)

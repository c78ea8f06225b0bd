"""Resource ids are opaque UUID strings; a malformed one is treated like an unknown one. People
see a short form (the first 8 hex digits) and may search by any part of an id."""

import re
import uuid

import uuid6
from django.db import migrations, models
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Replace
from django.db.models.lookups import Contains

SHORT_ID_LENGTH = 8
# A search word shorter than this is too likely to be a word, not a piece of an id.
_MIN_FRAGMENT = 4
_FRAGMENT = re.compile(r"[0-9a-f-]+")


def new_id() -> uuid.UUID:
    """A new id for a row written per movement (transactions, batches, holds, events, emails):
    a version 7 UUID (RFC 9562), which leads with its millisecond and is otherwise random. Its
    rows are inserted in about the order of their ids, so each index they lead lands on the
    index's last pages, which stay in memory, where a random version 4 id lands on any page of
    an index that can be many times the size of shared memory, and writes that page whole to
    the WAL after every checkpoint (README, Benchmarks). Python 3.11's `uuid` has no version
    7; `uuid6` implements RFC 9562's, monotonic within one millisecond."""
    return uuid6.uuid7()


def new_id_default(model_name: str, name: str = "id") -> migrations.SeparateDatabaseAndState:
    """The migration that gives `model_name.name` (its primary key, or with another `name` a
    unique UUID column) `new_id` as its default. Only the Python default changes, so the
    database is left as it is: Django's AlterField would rebuild the table on SQLite for it,
    and drop the table's triggers with it."""
    options = {"primary_key": True, "serialize": False} if name == "id" else {"unique": True}
    field = models.UUIDField(default=new_id, editable=False, **options)
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=name, field=field)]
    )


def parse_id(value, *, not_found: type[Exception]) -> uuid.UUID:
    """`value` as a UUID, or `not_found` raised when it is not one (never a 500)."""
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise not_found() from exc


def short_id(value) -> str:
    """The first 8 hex digits: enough to tell rows apart on a page, searchable like the id."""
    return str(value)[:SHORT_ID_LENGTH]


def id_fragment(word: str) -> str | None:
    """The hex digits of a search word that may be part of an id (dashes ignored), or None."""
    word = word.strip().lower()
    if not _FRAGMENT.fullmatch(word):
        return None
    digits = word.replace("-", "")
    return digits if len(digits) >= _MIN_FRAGMENT else None


def id_contains(field: str, fragment: str) -> Q:
    """Rows whose UUID `field` contains `fragment` (from `id_fragment`). The id is compared as
    dashless lowercase hex, which is how SQLite stores it and what PostgreSQL's text form
    becomes without its dashes, so one query works on both."""
    text = Replace(Cast(field, CharField()), Value("-"), Value(""))
    return Q(Contains(text, fragment))

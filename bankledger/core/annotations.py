"""A client's own labels on a movement (API.md, "Reference and metadata"): `reference`, its id
for the movement (an invoice, an order), and `metadata`, a small object of string values.

The limits live here once: the serializer fields every write uses (transfers, initial funds,
batch items, holds), and the expressions the models' CHECK constraints are written with."""

import re

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

REFERENCE_MAX_LENGTH = 128
METADATA_MAX_ENTRIES = 16
METADATA_KEY_MAX_LENGTH = 40
METADATA_VALUE_MAX_LENGTH = 500
METADATA_KEY = re.compile(rf"^[A-Za-z0-9_.-]{{1,{METADATA_KEY_MAX_LENGTH}}}$")


def metadata_broken_sql(column: str) -> dict[str, str]:
    """Per database, an SQL condition that holds when `column` (an object, as the models'
    CHECK makes it) breaks the rules `MetadataField` checks: too many entries, a key outside
    its pattern, a value that is not a string or is too long. For triggers: SQLite reads the
    entries with json_each (a subquery, which its trigger conditions allow); PostgreSQL with
    SQL/JSON paths (functions only, which its trigger conditions require)."""
    key_class = "A-Za-z0-9_.-"
    key_pattern = f"^[{key_class}]{{1,{METADATA_KEY_MAX_LENGTH}}}$"
    bad_key = f'$.keyvalue() ? (!(@.key like_regex "{key_pattern}"))'
    # Longer than the limit, in repetitions PostgreSQL's regular expressions allow (<= 255).
    chunks, rest = divmod(METADATA_VALUE_MAX_LENGTH, 250)
    too_long = f'$.* ? (@ like_regex "^(?:.{{250}}){{{chunks}}}.{{{rest}}}." flag "s")'
    return {
        "sqlite": (
            f"json_type({column}) = 'object' AND ("  # noqa: S608 (constants)
            f"(SELECT count(*) FROM json_each({column})) > {METADATA_MAX_ENTRIES}"
            f" OR EXISTS (SELECT 1 FROM json_each({column}) WHERE"
            f" length(key) NOT BETWEEN 1 AND {METADATA_KEY_MAX_LENGTH}"
            f" OR key GLOB '*[^{key_class}]*' OR type <> 'text'"
            f" OR length(value) > {METADATA_VALUE_MAX_LENGTH}))"
        ),
        "postgresql": (
            f"jsonb_typeof({column}) = 'object' AND ("
            f"jsonb_array_length(jsonb_path_query_array({column}, '$.keyvalue()'))"
            f" > {METADATA_MAX_ENTRIES}"
            f" OR jsonb_path_exists({column}, '{bad_key}')"
            f" OR jsonb_path_exists({column}, '$.* ? (@.type() != \"string\")')"
            f" OR jsonb_path_exists({column}, '{too_long}'))"
        ),
    }


class ReferenceField(serializers.CharField):
    """1-128 printable characters; absent or null means none."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("help_text", "Your own id for the movement (1-128 printable characters).")
        super().__init__(
            max_length=REFERENCE_MAX_LENGTH, trim_whitespace=False, allow_blank=False, **kwargs
        )

    def to_internal_value(self, data):
        if not isinstance(data, str):  # CharField would take a number or a boolean as text
            raise serializers.ValidationError("Expected a string.")
        value = super().to_internal_value(data)
        if not value.isprintable():
            raise serializers.ValidationError("Only printable characters are allowed.")
        return value


@extend_schema_field(
    {
        "type": "object",
        "maxProperties": METADATA_MAX_ENTRIES,
        "description": f"Keys: 1-{METADATA_KEY_MAX_LENGTH} characters of A-Z a-z 0-9 _ . -",
        "additionalProperties": {"type": "string", "maxLength": METADATA_VALUE_MAX_LENGTH},
        "example": {"invoice": "INV-2026-0042"},
    }
)
class MetadataField(serializers.Field):
    """An object of at most 16 entries: keys of 1-40 `[A-Za-z0-9_.-]`, string values of at most
    500 characters. Absent or null means `{}`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("Expected an object of string values.")
        if len(data) > METADATA_MAX_ENTRIES:
            raise serializers.ValidationError(f"At most {METADATA_MAX_ENTRIES} entries.")
        problems = [problem for item in data.items() if (problem := _entry_problem(*item))]
        if problems:
            raise serializers.ValidationError(problems)
        return dict(data)

    def to_representation(self, value):
        return value


def _entry_problem(key, value) -> str | None:
    if not METADATA_KEY.match(key):
        return f"Key {key[:50]!r}: 1-{METADATA_KEY_MAX_LENGTH} characters of A-Z a-z 0-9 _ . -"
    if not isinstance(value, str):
        return f"Key {key!r}: values must be strings."
    if len(value) > METADATA_VALUE_MAX_LENGTH:
        return f"Key {key!r}: values have at most {METADATA_VALUE_MAX_LENGTH} characters."
    # PostgreSQL's text and jsonb cannot hold NUL.
    if "\x00" in value:
        return f"Key {key!r}: values cannot contain NUL."
    return None


class JSONType(models.Func):
    """The JSON type name of a value ("object", "array", ...), on PostgreSQL and SQLite alike:
    the CHECK that keeps `metadata` an object."""

    output_field = models.CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="JSONB_TYPEOF", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="JSON_TYPE", **extra)


def annotation_constraints(prefix: str) -> list[models.BaseConstraint]:
    """CHECKs for a table with `reference` and `metadata` columns: a reference is absent or
    1-128 characters, metadata is a JSON object."""
    return [
        models.CheckConstraint(
            condition=models.Q(reference__isnull=True)
            | models.lookups.Range(models.functions.Length("reference"), (1, REFERENCE_MAX_LENGTH)),
            name=f"{prefix}_reference_length",
        ),
        models.CheckConstraint(
            condition=models.lookups.Exact(JSONType("metadata"), "object"),
            name=f"{prefix}_metadata_is_object",
        ),
    ]

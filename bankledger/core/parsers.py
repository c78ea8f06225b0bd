"""JSON request parsing with no float anywhere: numbers with a fraction become `Decimal`."""

import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from bankledger.core.errors import PayloadTooLarge


class ExponentNumber(Decimal):
    """A JSON number written in exponent notation (`1e3`). Kept distinct so the amount field can
    refuse it: API.md allows plain decimals only."""


def _parse_float(text: str) -> Decimal:
    if "e" in text or "E" in text:
        return ExponentNumber(text)
    return Decimal(text)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class DecimalJSONParser(JSONParser):
    """DRF's JSON parser with `parse_float=Decimal`, NaN/Infinity refused and a size cap that
    is enforced while reading, before anything is parsed."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(
                raw.decode(encoding), parse_float=_parse_float, parse_constant=_refuse_constant
            )
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ParseError("Malformed JSON in request body.", code="malformed_json") from exc

"""Money at the edge: ISO 4217 currencies with their minor-unit exponent, parsing a request's
amount into an exact `Decimal` and rendering integer minor units back as a decimal string (for
the API) or as grouped "amount currency" text (for people: the admin, emails, commands).
Inside the service money is always an `int` count of minor units."""

import difflib
import re
from decimal import Decimal
from functools import cache

import iso4217

from bankledger.core.parsers import ExponentNumber

# Accounts open in this currency unless told otherwise (API.md, `POST /accounts`).
DEFAULT_CURRENCY = "INR"

# How an amount must look, for every caller's error message (API, admin, commands).
AMOUNT_FORMAT = "a positive decimal number or string such as 500 or 500.50"

_DECIMAL_STRING = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?", re.ASCII)
_MAX_STRING_LENGTH = 40


@cache
def currency_exponent(code: str) -> int | None:
    """Minor-unit exponent of an ISO 4217 currency (INR: 2, JPY: 0), or None when the code is
    unknown or has no minor unit (gold, SDR, test codes)."""
    if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{3}", code):
        return None
    try:
        return iso4217.Currency(code).exponent
    except ValueError:
        return None


@cache
def currency_codes() -> tuple[str, ...]:
    """Every currency an account may hold: the ISO 4217 codes that have a minor unit."""
    return tuple(sorted(c.code for c in iso4217.Currency if c.exponent is not None))


def currency_normalize(code: str) -> str:
    """Codes are accepted in any case and kept upper case: `eur` -> `EUR`."""
    return code.upper()


def currency_close_matches(code: str) -> list[str]:
    """Known codes that look like `code` (a typo's likely intent), closest first."""
    return difflib.get_close_matches(code.upper(), currency_codes(), n=3, cutoff=0.6)


def parse_amount(value) -> Decimal | None:
    """The exact positive decimal a request, a form or a command line gave, or None when it is
    not a plain positive decimal (zero, booleans, null, containers, NaN, exponent notation,
    signs, spaces). The one parser every caller shares; bounds and the currency's decimal
    places are the services' to check."""
    if isinstance(value, bool | ExponentNumber):
        return None
    if isinstance(value, int | Decimal) or (
        isinstance(value, str)
        and len(value) <= _MAX_STRING_LENGTH
        and _DECIMAL_STRING.fullmatch(value)
    ):
        amount = Decimal(value)
    else:
        return None
    return amount if amount.is_finite() and amount > 0 else None


def decimal_places(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def to_minor_units(amount: Decimal, exponent: int) -> int | None:
    """`amount` in minor units, or None when it has more decimals than the currency has."""
    if decimal_places(amount) > exponent:
        return None
    return int(amount.scaleb(exponent))


def _decimal_text(minor: int, currency: str, grouping: str) -> str:
    exponent = currency_exponent(currency) or 0
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**exponent)
    whole_text = f"{whole:{grouping}}"
    return f"{sign}{whole_text}.{fraction:0{exponent}d}" if exponent else f"{sign}{whole_text}"


def format_minor_units(minor: int, currency: str) -> str:
    """The API's decimal string: `123450050` INR -> `"1234500.50"`; `-300` JPY -> `"-300"`."""
    return _decimal_text(minor, currency, "")


def format_money(minor: int, currency: str) -> str:
    """The one way people see an amount (admin, emails, commands): grouped thousands and the
    currency after it, `123450050` INR -> `"1,234,500.50 INR"`."""
    return f"{_decimal_text(minor, currency, ',')} {currency}"

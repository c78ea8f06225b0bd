"""What no response may ever carry, checked on every body the security suite sees."""

import re

# A password hash in Django's `algorithm$...` form, a Python stack trace, a database error.
_FORBIDDEN = [
    re.compile(r"(bcrypt|bcrypt_sha256|pbkdf2_sha256|argon2)\$"),
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r'File "[^"]+\.py", line \d+'),
    re.compile(
        r"(psycopg|sqlite3|IntegrityError|OperationalError|ProgrammingError|"
        r"relation \"|no such table|syntax error at or near)",
        re.IGNORECASE,
    ),
]
# API.md: `password` and `systemUser` never appear in any response.
_FORBIDDEN_KEYS = {"password", "systemUser", "is_system", "is_superuser", "is_staff"}


def _keys(value):
    """Every key of a JSON body, except the field names of a validation error's `errors`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "errors":
                yield key
                yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def assert_safe(response, *, allowed_keys: frozenset = frozenset()) -> None:
    """The body is JSON, leaks no secret, no stack trace and no SQL; never a 500 page in HTML.
    `allowed_keys`: forbidden keys this one response may carry (`/auth/me`'s own `systemUser`)."""
    text = response.content.decode("utf-8", errors="replace")
    assert response["Content-Type"].startswith("application/json"), (response.status_code, text)
    for pattern in _FORBIDDEN:
        assert not pattern.search(text), (pattern.pattern, text[:500])
    leaked = (_FORBIDDEN_KEYS - allowed_keys).intersection(_keys(response.json()))
    assert not leaked, (leaked, text[:500])


def assert_clean_refusal(response) -> None:
    """A 4xx with the `{message, code}` error shape, and nothing a client must not see."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    assert_safe(response)
    body = response.json()
    assert isinstance(body.get("message"), str) and isinstance(body.get("code"), str), body

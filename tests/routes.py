"""The real URL table, walked: every /api route spelled as the OpenAPI schema spells it."""

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

from bankledger.core.errors import json_not_found

_PARAMETER = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>")


def _walk(patterns, prefix: str) -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        route = prefix + str(entry.pattern).removeprefix("^").removesuffix("$")
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        else:
            yield route, entry


def api_routes() -> Iterator[tuple[str, URLPattern]]:
    """(`/api/accounts/{account_id}/freeze`, its pattern) for every /api route but the
    catch-all 404: `api/^accounts/(?P<account_id>[^/]+)/freeze/?$` becomes the former."""
    for route, entry in _walk(get_resolver().url_patterns, ""):
        if route.startswith("api") and entry.callback is not json_not_found:
            yield "/" + _PARAMETER.sub(r"{\1\2}", route).removesuffix("/?"), entry

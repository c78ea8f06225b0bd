"""The router every app registers its viewsets on."""

from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Routes that answer with and without one trailing slash, as the original service's Express
    router did (API.md "Paths"): `POST /api/transactions/` is `POST /api/transactions`.

    SimpleRouter only knows "slash" or "no slash"; its route templates put `trailing_slash`
    straight into a regex, so the optional slash is set after construction (DRF's documented
    way). Ids match any run of characters but `/`, like the `str` converter the contract's
    paths used, so a malformed id reaches the view and is answered as an unknown one."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
        self._default_value_pattern = "[^/]+"

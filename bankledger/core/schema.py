"""The OpenAPI schema: one shared error body, and component names for
the nested Input/Output serializers of the house style. (The authentication schemes are
described beside their class, in `users.authentication`.)

drf-spectacular names a component after the serializer class alone, so every viewset's nested
`CreateInputSerializer` would collide; naming it after the resource and the verb
(`AccountViewSet.CreateInputSerializer` -> `AccountCreate`, `HealthCheckApi.OutputSerializer`
-> `HealthCheck`) keeps each one distinct. The error responses every endpoint can give (401,
403, 404, 400, 413, 415, 503) are added here once instead of on every view."""

from drf_spectacular import openapi
from drf_spectacular.drainage import get_override
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, AllowAny


class ErrorSerializer(serializers.Serializer):
    """Every error body: `{message, code}`, plus `errors` for invalid input."""

    message = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=(
            "Per-field problems, for `invalid_input` and `invalid_amount`: a list of messages, "
            "or, for a list field, an object of them keyed by the item's index."
        ),
    )


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


_ERRORS = {
    "400": "Invalid input (`invalid_input`), or a business refusal with its own `code`.",
    "401": "Token missing (`token_missing`) or invalid, expired or revoked (`token_invalid`).",
    "403": "Not allowed: not a system user, not the caller's account, or `csrf_failed`.",
    "404": "No such resource, or not one the caller may see (a malformed id included).",
    "413": "Request body too large (`payload_too_large`).",
    "415": "Request body is not JSON (`unsupported_media_type`).",
    "429": "Rate limit exceeded (`rate_limited`), with `Retry-After`.",
    "503": "The database is unreachable or kept refusing the write (`service_unavailable`).",
}


def paths_without_optional_slash(endpoints, **kwargs):
    """A preprocessing hook: the schema names each route once, as the contract spells it
    (`/api/accounts`), though the routers also answer it with one trailing slash."""
    return [
        (path.removesuffix("/") if regex.endswith("/?$") else path, regex, method, callback)
        for path, regex, method, callback in endpoints
    ]


# What DRF's CharField refuses though a bare `type: string` allows it: a NUL anywhere, and,
# where surrounding whitespace is trimmed and blank is refused, a string of only whitespace.
# Stating it lets a client (and schemathesis) know before sending.
_NO_NUL = "^[^\\u0000]*$"
_NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


class AutoSchema(openapi.AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        override = get_override(field, "field")
        if isinstance(override, dict) and "minLength" in override:
            # drf-spectacular writes `minLength: 1` for non-blank fields over an explicit schema.
            schema["minLength"] = override["minLength"]
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
            and not {"pattern", "enum", "format"} & set(schema)
        ):
            blank_refused = field.trim_whitespace and not field.allow_blank
            schema["pattern"] = _NOT_BLANK if blank_refused else _NO_NUL
        return schema

    def get_serializer_name(self, serializer, direction):
        outer, _, inner = type(serializer).__qualname__.rpartition(".")
        if not outer.endswith(("Api", "ViewSet")):
            return super().get_serializer_name(serializer, direction)
        verb = inner.removesuffix("Serializer").removesuffix("Input").removesuffix("Output")
        return self._resource(outer) + verb

    def _resource(self, outer: str) -> str:
        """The view's name without its suffix, unless the view names its resource itself (the
        ledger's `AccountLedgerViewSet` describes accounts)."""
        if type(self.view).__qualname__ == outer and hasattr(self.view, "schema_resource"):
            return self.view.schema_resource
        return outer.removesuffix("Api").removesuffix("ViewSet")

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    error_response(_ERRORS[code]), code, direction=direction
                )
        return dict(sorted(responses.items()))

    def _error_codes(self) -> list[str]:
        codes = ["503"]
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes.append("401")
            if self.method not in SAFE_METHODS:
                codes.append("403")
        if "{" in self.path:
            codes.append("404")
        if self.method not in SAFE_METHODS and self.get_request_serializer() is not None:
            codes += ["400", "413", "415"]
        if self.view.get_throttles():
            codes.append("429")
        return codes

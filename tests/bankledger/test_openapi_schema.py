"""The OpenAPI schema validates with no warnings, describes every route, both ways to send the
JWT, API keys and the shared error body; Swagger UI is served with its assets from this server."""

import re

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

from tests.routes import api_routes


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.stat().st_size > 0


@pytest.fixture
def schema(db):
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_every_api_route_is_in_the_schema(schema):
    # The schema and its Swagger UI are routes but not operations.
    routes = {path for path, entry in api_routes() if entry.name not in ("schema", "docs")}
    assert routes == set(schema["paths"])


def test_both_auth_schemes_and_the_error_body(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["cookieAuth"] == {"type": "apiKey", "in": "cookie", "name": "token"}
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"message", "code"} and "errors" in error["properties"]
    assert schemes["apiKeyAuth"]["scheme"] == "bearer"
    me = schema["paths"]["/api/auth/me"]["get"]
    assert me["security"] == [{"apiKeyAuth": []}, {"bearerAuth": []}, {"cookieAuth": []}]
    assert me["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_yaml_is_the_default_form(db):
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


def test_docs_ignore_a_stale_token(db):
    client = Client()
    client.cookies["token"] = "expired.or.garbage"
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/schema/", HTTP_AUTHORIZATION="Bearer nope").status_code == 200


def test_swagger_ui_works_offline(db):
    page = Client().get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"""(?:src|href)=["']https?://""", html)
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", html)
    assert any("swagger-ui-bundle" in asset for asset in assets)
    for asset in assets:
        response = Client().get(asset)
        assert response.status_code == 200, asset

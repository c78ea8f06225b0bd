"""Every response under /api/ is JSON, errors included."""

import pytest
from rest_framework.test import APIClient

import accounts.apis


@pytest.mark.parametrize("path", ["/api/nope", "/api//", "/api/accounts/balance/x/y"])
def test_unknown_route_is_json_404(db, path):
    response = APIClient().get(path)
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "code": "not_found"}


def test_wrong_method_is_json_405(api):
    response = api.delete("/api/accounts")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_malformed_json_is_400(api):
    response = api.post("/api/accounts", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_constants_are_malformed(api, literal):
    response = api.post(
        "/api/accounts", f'{{"currency": {literal}}}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_unexpected_error_is_json_500_without_a_trace(api, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(accounts.apis, "account_list", explode)
    client = APIClient(raise_request_exception=False)
    client.credentials(**api._credentials)
    response = client.get("/api/accounts")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error.", "code": "server_error"}
    assert "secret internals" not in response.content.decode()

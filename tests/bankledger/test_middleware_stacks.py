"""The JSON API skips the browser pages' middleware (sessions, the session's user, messages);
the admin keeps all of it, and its CSRF protection."""

import pytest
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_an_api_request_opens_no_session_and_sets_no_cookie(api):
    response = api.get("/api/accounts")
    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "_messages")
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_an_admin_page_has_its_session_csrf_cookie_and_messages():
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert hasattr(response.wsgi_request, "session")
    assert hasattr(response.wsgi_request, "_messages")
    assert "csrftoken" in response.cookies


def test_an_admin_post_without_its_csrf_token_is_refused(system_user):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": system_user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_an_admin_post_with_its_csrf_token_logs_in(system_user):
    client = Client(enforce_csrf_checks=True)
    token = client.get("/admin/login/").cookies["csrftoken"].value
    response = client.post(
        "/admin/login/",
        {"username": system_user.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(system_user.pk)

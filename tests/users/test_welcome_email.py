"""The welcome email, end to end: registration commits, `manage.py db_worker` (a real process)
sends it to a real SMTP server on loopback."""

import pytest
from rest_framework.test import APIClient

from accounts.services import system_user_create
from tests.conftest import PASSWORD
from tests.mailserver import SMTP_SETTINGS, run_worker_batch

pytestmark = pytest.mark.django_db(transaction=True)


def test_registration_sends_a_welcome_email(smtp):
    response = APIClient().post(
        "/api/auth/register",
        {"name": "Naman <b>", "email": "Naman@Example.com", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 201
    run_worker_batch(**SMTP_SETTINGS)

    [message] = smtp.messages
    assert message["To"] == "naman@example.com"
    assert message["Subject"] == "Welcome to bankledger, Naman <b>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Naman <b>," in text
    assert "Hello Naman &lt;b&gt;," in html  # the name is escaped in HTML
    for part in (text, html):
        assert PASSWORD not in part and response.json()["token"] not in part


def test_system_users_get_no_welcome_email(smtp):
    system_user_create(email="ops@example.com", password=PASSWORD)
    run_worker_batch(**SMTP_SETTINGS)

    assert smtp.messages == []

"""The email outbox in the admin: any staff user may look, only system users may re-send."""

import pytest
from django.test import Client

from bankledger.mail.models import Email

URL = "/admin/mail/email/"


@pytest.fixture
def failed(db):
    return Email.objects.create(
        key="welcome:test", to="ana@example.com", subject="Hi", text="t", html="<p>t</p>",
        status=Email.Status.FAILED, attempts=6, last_error="connection refused",
    )  # fmt: skip


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _resend(client, email):
    return client.post(URL, {"action": "resend", "_selected_action": [str(email.id)]}, follow=True)


def test_plain_staff_see_the_outbox_but_cannot_resend(make_user, failed):
    client = _client(make_user(is_staff=True))
    page = client.get(URL)
    assert page.status_code == 200
    assert "welcome:test" in page.content.decode()
    assert 'value="resend"' not in page.content.decode()
    _resend(client, failed)
    failed.refresh_from_db()
    assert failed.status == Email.Status.FAILED


def test_system_user_resends_a_failed_email(system_user, failed):
    client = _client(system_user)
    assert 'value="resend"' in client.get(URL).content.decode()
    response = _resend(client, failed)
    assert "1 failed email(s) queued again." in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Email.Status.PENDING, 0)


def test_nobody_edits_or_deletes_an_email(system_user, failed):
    client = _client(system_user)
    assert client.post(f"{URL}{failed.id}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"{URL}{failed.id}/change/", {"subject": "x"}).status_code == 403
    assert Email.objects.get(id=failed.id).subject == "Hi"

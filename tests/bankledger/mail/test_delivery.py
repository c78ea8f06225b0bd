"""Delivery through the outbox and `manage.py db_worker` (a real process) to a real SMTP server
on loopback: outages, retries with backoff, failures that stay visible, exactly-once sending."""

from collections import Counter

import pytest

from bankledger.mail.models import Email
from bankledger.mail.tasks import email_send
from tests.conftest import client_for
from tests.mailserver import (
    SMTP_SETTINGS,
    SmtpServer,
    Worker,
    run_manage,
    run_worker_batch,
    wait_until,
)
from users.tasks import welcome_email_send

pytestmark = pytest.mark.django_db(transaction=True)

SMTP = SMTP_SETTINGS


@pytest.fixture
def smtp():
    """Not started: each test decides when the mail server is up."""
    server = SmtpServer()
    yield server
    server.stop()


def transfer(user, sender, receiver, amount, key):
    return client_for(user).post(
        "/api/transactions",
        {"fromAccount": str(sender.id), "toAccount": str(receiver.id), "amount": amount},
        headers={"Idempotency-Key": key},
        format="json",
    )


def test_during_an_outage_transfers_succeed_and_every_email_is_sent_once_it_ends(
    smtp, make_user, make_account, fund
):
    alice, bob = make_user(), make_user()
    alices, bobs = make_account(alice), make_account(bob)
    fund(alices, "100.00")
    worker = Worker(**SMTP, EMAIL_RETRY_BACKOFF="0.2", EMAIL_MAX_ATTEMPTS="1000")
    try:
        responses = [transfer(alice, alices, bobs, f"{n}.00", f"outage-{n}") for n in (1, 2, 3)]
        assert [r.status_code for r in responses] == [201, 201, 201]
        wait_until(
            lambda: (
                Email.objects.count() == 9 and not Email.objects.filter(attempts__lt=2).exists()
            ),
            message="every email tried at least twice while the server is down",
        )
        assert not Email.objects.filter(status=Email.Status.SENT).exists()

        smtp.start()
        wait_until(
            lambda: Email.objects.filter(status=Email.Status.SENT).count() == 9,
            message="every email sent once the server is back",
        )
    finally:
        worker.stop()
    run_worker_batch(**SMTP)  # nothing left over that would send a copy

    ids = Counter(m["Message-ID"] for m in smtp.messages)
    assert len(ids) == 9 and set(ids.values()) == {1}
    sent = Counter((m["To"], m["Subject"]) for m in smtp.messages)
    assert sent == Counter(
        {
            (alice.email, "Welcome to bankledger, Test User"): 1,
            (bob.email, "Welcome to bankledger, Test User"): 1,
            (alice.email, "100.00 INR received in your account"): 1,
            **{(alice.email, f"{n}.00 INR sent from your account"): 1 for n in (1, 2, 3)},
            **{(bob.email, f"{n}.00 INR received in your account"): 1 for n in (1, 2, 3)},
        }
    )


def test_an_email_that_keeps_failing_stays_visible_and_can_be_sent_again(smtp, make_user):
    user = make_user()
    run_worker_batch(**SMTP, EMAIL_RETRY_BACKOFF="0", EMAIL_MAX_ATTEMPTS="3")

    email = Email.objects.get()
    assert (email.status, email.attempts) == (Email.Status.FAILED, 3)
    assert "ConnectionRefusedError" in email.last_error
    listing = run_manage("failed_emails").stdout
    assert str(email.id) in listing and f"welcome:{user.id}" in listing

    smtp.start()
    assert "1 email(s) queued again" in run_manage("failed_emails", "--resend").stdout
    run_worker_batch(**SMTP)

    [message] = smtp.messages
    assert message["To"] == user.email
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (Email.Status.SENT, 1, "")
    assert "0 failed email(s)" in run_manage("failed_emails").stdout


def test_a_task_run_again_sends_no_copy(smtp, make_user):
    user = make_user()
    smtp.start()
    run_worker_batch(**SMTP)
    email = Email.objects.get()

    email_send.enqueue(str(email.id))
    email_send.enqueue(str(email.id))
    welcome_email_send.enqueue(str(user.id))
    run_worker_batch(**SMTP)

    assert len(smtp.messages) == 1
    assert Email.objects.get().attempts == 1

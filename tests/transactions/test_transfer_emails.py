"""Transfer notices, end to end: the API commits a transfer, `manage.py db_worker` (a real
process) sends the notices to a real SMTP server on loopback."""

import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from bankledger.events.models import Event
from bankledger.mail.models import Email
from tests.conftest import PASSWORD, client_for
from tests.mailserver import SMTP_SETTINGS, run_events_once, run_worker_batch
from transactions.services import transfer_create
from users.services import token_issue

pytestmark = pytest.mark.django_db(transaction=True)


def parts(message):
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


def notices_to(smtp, address):
    return [m for m in smtp.messages if m["To"] == address and "Welcome" not in m["Subject"]]


def welcomes(smtp):
    return [m for m in smtp.messages if "Welcome" in m["Subject"]]


def words_of_html(html: str) -> list[str]:
    """What a reader of the HTML part sees in its body, as words."""
    body = re.search(r"<body[^>]*>(.*)</body>", html, re.DOTALL).group(1)
    blocks_apart = re.sub(r"</?(?:p|table|tr|td|div|br)\b[^>]*>", " ", body)
    return unescape(re.sub(r"<[^>]*>", "", blocks_apart)).split()


def transfer(user, sender, receiver, amount, key):
    return client_for(user).post(
        "/api/transactions",
        {
            "fromAccount": str(sender.id),
            "toAccount": str(receiver.id),
            "amount": amount,
            "idempotencyKey": key,
        },
        format="json",
    )


def test_transfer_sends_a_debit_notice_to_the_sender_and_a_credit_notice_to_the_receiver(
    smtp, make_user, make_account, fund
):
    alice, bob = make_user(name="Alice"), make_user(name="Bob")
    alices, bobs = make_account(alice), make_account(bob)
    fund(alices, "1000.00")

    response = transfer(alice, alices, bobs, "250.50", "rent")
    assert response.status_code == 201
    run_worker_batch(**SMTP_SETTINGS)

    [funded, debit] = notices_to(smtp, alice.email)
    [credit] = notices_to(smtp, bob.email)
    assert funded["Subject"] == "1,000.00 INR received in your account"
    assert debit["Subject"] == "250.50 INR sent from your account"
    assert credit["Subject"] == "250.50 INR received in your account"
    for part in parts(debit):
        assert "250.50 INR" in part and "749.50 INR" in part  # the amount, the balance after
        assert str(alices.id) in part and str(bobs.id) in part
    for part in parts(credit):
        assert "250.50 INR" in part and "Hello Bob" in part and str(alices.id) in part
    for part in parts(funded):
        assert "initial funds" in part and "1,000.00 INR" in part
    tx = response.json()["transaction"]["_id"]
    assert all(tx in parts(m)[0] for m in (debit, credit))


def test_amounts_are_formatted_with_their_currency(smtp, make_user, make_account, fund):
    alice, bob = make_user(), make_user()
    alices, bobs = make_account(alice, "JPY"), make_account(bob, "JPY")
    fund(alices, "5000")

    assert transfer(alice, alices, bobs, "1200", "yen").status_code == 201
    run_worker_batch(**SMTP_SETTINGS)

    [credit] = notices_to(smtp, bob.email)
    assert credit["Subject"] == "1,200 JPY received in your account"
    assert "3,800 JPY" in parts(notices_to(smtp, alice.email)[1])[0]


def test_the_text_and_html_parts_say_the_same_words(smtp, make_user, make_account, fund):
    alice, bob = make_user(name="Alice <Ann>"), make_user(name="Bob")
    alices, bobs = make_account(alice), make_account(bob)
    fund(alices, "1234567.89")
    assert transfer(alice, alices, bobs, "1000", "same-words").status_code == 201
    run_worker_batch(**SMTP_SETTINGS)

    messages = notices_to(smtp, alice.email) + notices_to(smtp, bob.email) + welcomes(smtp)
    assert len(messages) == 5  # funded, debit, credit and two welcomes
    for message in messages:
        text, html = parts(message)
        assert words_of_html(html) == text.split(), message["Subject"]
    debit = notices_to(smtp, alice.email)[1]
    assert "1,233,567.89 INR" in parts(debit)[0]  # the balance after, grouped


def test_no_message_carries_a_password_hash_or_token(smtp, make_user, make_account, fund):
    alice, bob = make_user(), make_user()
    alices, bobs = make_account(alice), make_account(bob)
    fund(alices, "10")
    token = token_issue(user=alice)
    transfer(alice, alices, bobs, "1", "k")
    run_worker_batch(**SMTP_SETTINGS)

    assert len(smtp.messages) == 5  # two welcomes, initial funds, debit, credit
    for message in smtp.messages:
        raw = message.as_string()
        for secret in (PASSWORD, alice.password, alice.password.split("$")[-1], token):
            assert secret not in raw


def test_refused_and_rolled_back_transfers_send_nothing(smtp, make_user, make_account, fund):
    alice, bob = make_user(), make_user()
    alices, bobs = make_account(alice), make_account(bob)
    fund(alices, "10.00")

    refused = transfer(alice, alices, bobs, "999.00", "too-much")
    assert refused.status_code == 400
    with pytest.raises(RuntimeError), transaction.atomic():
        transfer_create(
            initiator=alice,
            from_account_id=str(alices.id),
            to_account_id=str(bobs.id),
            amount=Decimal("7.77"),
            idempotency_key="rolled-back",
        )
        raise RuntimeError("something after the transfer failed")
    completed = Event.objects.filter(type="transaction.completed")
    assert [e.data["_id"] for e in completed] == [str(alices.incoming.get().id)]
    run_worker_batch(**SMTP_SETTINGS)

    assert notices_to(smtp, bob.email) == []
    assert [m["Subject"] for m in notices_to(smtp, alice.email)] == [
        "10.00 INR received in your account"
    ]
    assert not Email.objects.filter(key__contains=refused.json()["transaction"]["_id"])


def test_a_batch_queues_one_notice_task_and_sends_every_items_notices(
    smtp, make_user, make_account, fund
):
    alice, bob, carol = make_user(), make_user(), make_user()
    alices, bobs, carols = make_account(alice), make_account(bob), make_account(carol)
    fund(alices, "100.00")
    run_events_once()
    rows_before = DBTaskResult.objects.count()
    items = [
        {"fromAccount": str(alices.id), "toAccount": str(bobs.id), "amount": "10"},
        {"fromAccount": str(alices.id), "toAccount": str(carols.id), "amount": "20"},
    ]
    response = client_for(alice).post(
        "/api/transactions/batch", {"idempotencyKey": "b", "transfers": items}, format="json"
    )
    assert response.status_code == 201
    completed = Event.objects.filter(type="transaction.completed", seq__isnull=True)
    assert [e.data["batch"] for e in completed] == [response.json()["batch"]["_id"]] * 2
    run_events_once()
    assert DBTaskResult.objects.count() == rows_before + 1  # one task for the whole batch
    run_worker_batch(**SMTP_SETTINGS)
    assert [m["Subject"] for m in notices_to(smtp, alice.email)][1:] == [
        "10.00 INR sent from your account",
        "20.00 INR sent from your account",
    ]
    assert [m["Subject"] for m in notices_to(smtp, bob.email)] == [
        "10.00 INR received in your account"
    ]
    assert [m["Subject"] for m in notices_to(smtp, carol.email)] == [
        "20.00 INR received in your account"
    ]

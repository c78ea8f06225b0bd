"""Writes for outgoing email: render a message into the outbox once, deliver it, and queue
failed ones again. Nothing here runs inside a money transaction: the callers are tasks."""

import logging
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from bankledger.mail.models import Email

logger = logging.getLogger(__name__)

# The longest wait between two attempts, in seconds, however many attempts are allowed.
MAX_DELAY = 24 * 3600


def email_create(*, key: str, to: str, template: str, context: dict) -> Email:
    """Render `<template>/subject.txt`, `body.txt` and `body.html` into a PENDING email, once per
    key: a later call with the same key (a task run twice) returns the first email unchanged."""
    existing = Email.objects.filter(key=key).first()
    if existing is not None:
        return existing
    subject = " ".join(render_to_string(f"{template}/subject.txt", context).split())
    email = Email(
        key=key,
        to=to,
        subject=subject[:255],
        text=render_to_string(f"{template}/body.txt", context),
        html=render_to_string(f"{template}/body.html", context),
    )
    try:
        with transaction.atomic():
            email.save(force_insert=True)
    except IntegrityError:
        # The unique key decides a race between two runs of the same task.
        return Email.objects.get(key=key)
    return email


def _message(email: Email) -> EmailMultiAlternatives:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        to=[email.to],
        # One Message-ID per outbox row, so a receiver can tell a copy from a new message.
        headers={"Message-ID": f"<{email.id}@{domain}>"},
    )
    message.attach_alternative(email.html, "text/html")
    return message


def _record_failure(email: Email, exc: Exception, send_task) -> str:
    final = email.attempts >= settings.EMAIL_MAX_ATTEMPTS
    status = Email.Status.FAILED if final else Email.Status.PENDING
    now = timezone.now()
    # The status and the retry are written together, so a retry is never lost or doubled.
    with transaction.atomic():
        Email.objects.filter(id=email.id).update(
            status=status, last_error=f"{type(exc).__name__}: {exc}", updated_at=now
        )
        if not final:
            delay = min(settings.EMAIL_RETRY_BACKOFF * 2 ** (email.attempts - 1), MAX_DELAY)
            retry = send_task.using(run_after=now + timedelta(seconds=delay))
            retry.enqueue(str(email.id))
    log = logger.error if final else logger.warning
    log("email %s to %s, attempt %d, failed: %s", email.key, email.to, email.attempts, exc)
    return status


def email_deliver(*, email_id: str, send_task) -> str:
    """Send one PENDING email and return its status afterwards. The conditional update that
    claims it decides between workers, so it is sent at most once; a failed send is tried again
    with exponential backoff up to EMAIL_MAX_ATTEMPTS, then left FAILED. `send_task` is the
    task that delivers an email by id (`tasks.email_send`), passed in so that the tasks module
    may import this one without a cycle."""
    claimed = Email.objects.filter(id=email_id, status=Email.Status.PENDING).update(
        status=Email.Status.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    email = Email.objects.get(id=email_id)
    if not claimed:
        return email.status
    try:
        _message(email).send()
    except Exception as exc:  # whatever the backend raises, the email waits for its retry
        return _record_failure(email, exc, send_task)
    now = timezone.now()
    Email.objects.filter(id=email.id).update(
        status=Email.Status.SENT, sent_at=now, last_error="", updated_at=now
    )
    return Email.Status.SENT


def email_resend(*, email_ids: list, send_task) -> int:
    """Queue FAILED emails again with a fresh set of attempts on `send_task`; returns how many
    were queued."""
    with transaction.atomic():
        ids = list(
            Email.objects.select_for_update()
            .filter(id__in=email_ids, status=Email.Status.FAILED)
            .values_list("id", flat=True)
        )
        Email.objects.filter(id__in=ids).update(
            status=Email.Status.PENDING, attempts=0, updated_at=timezone.now()
        )
        for email_id in ids:
            send_task.enqueue(str(email_id))
    return len(ids)

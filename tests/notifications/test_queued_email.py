"""The queued backend: every email is recorded, sent by a task after the commit, delivered once,
retried with backoff, marked failed with its reason, and never fails the request that sent it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.forms import PasswordResetForm
from django.core import mail
from django.core.mail import BadHeaderError, EmailMessage
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from portal.core import crypto
from portal.notifications import payload, tasks
from portal.notifications.models import EmailRecord, EmailStatus
from tests.factories import EmailRecordFactory, UserFactory
from tests.notifications import backends
from tests.notifications.urls import SUBJECT

DELIVER = "notifications.deliver_email"
CONFIRM = "confirm_order"

pytestmark = pytest.mark.urls("tests.notifications.urls")


def confirm(client, email: str = "carol@example.com"):
    return client.post(reverse(CONFIRM), {"email": email})


@pytest.mark.django_db
def test_a_message_sent_in_a_request_is_recorded_queued_and_sent_to_the_worker_only_after_commit(
    client, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as on_commit:
        response = confirm(client)
        record = EmailRecord.objects.get()
        assert (record.status, record.to, record.subject) == (
            "queued",
            "carol@example.com",
            SUBJECT,
        )
        assert mail.outbox == []
        assert sent_tasks.sent == []

    assert response.status_code == 200
    assert len(on_commit) == 1
    assert sent_tasks.sent == [(DELIVER, (record.pk,))]
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_the_delivery_task_sends_the_recorded_message_and_marks_it_sent(client, eager_tasks):
    response = confirm(client)

    record = EmailRecord.objects.get()
    assert response.status_code == 200
    assert (record.status, record.attempts, record.last_error) == ("sent", 1, "")
    assert record.sent_at is not None
    [delivered] = mail.outbox
    assert (delivered.subject, delivered.to, delivered.body) == (
        SUBJECT,
        ["carol@example.com"],
        "Thank you for your order.",
    )


@pytest.mark.django_db
def test_delivering_twice_sends_once():
    record = EmailRecordFactory()

    tasks.deliver_email.apply(args=[record.pk])
    tasks.deliver_email.apply(args=[record.pk])

    record.refresh_from_db()
    assert len(mail.outbox) == 1
    assert (record.status, record.attempts) == ("sent", 1)


@pytest.mark.django_db
def test_a_message_claimed_by_another_worker_is_left_to_it():
    record = EmailRecordFactory(status=EmailStatus.SENDING, claimed_at=timezone.now(), attempts=1)

    tasks.deliver_email.apply(args=[record.pk])

    record.refresh_from_db()
    assert mail.outbox == []
    assert (record.status, record.attempts) == ("sending", 1)


@pytest.mark.django_db
def test_portal_headers_label_the_record_and_never_leave_with_the_message(sent_tasks, customer):
    message = EmailMessage(
        "Invoice INV-2026-000001",
        "Your invoice.",
        to=["carol@example.com"],
        headers={
            payload.KIND_HEADER: "invoice_issued",
            payload.OBJECT_HEADER: f"accounts.customer:{customer.pk}",
            "X-Mailer": "portal",
        },
    )

    message.send()
    record = EmailRecord.objects.get()
    tasks.deliver_email.apply(args=[record.pk])

    assert (record.kind, record.object_type, record.object_id) == (
        "invoice_issued",
        "accounts.customer",
        str(customer.pk),
    )
    [delivered] = mail.outbox
    assert delivered.extra_headers == {"X-Mailer": "portal"}
    assert "X-Portal" not in delivered.message().as_string()


@pytest.mark.django_db
def test_djangos_password_reset_goes_through_the_queue_with_its_kind_and_the_link_encrypted(
    sent_tasks,
):
    user = UserFactory(email="dave@example.com")

    form = PasswordResetForm(data={"email": user.email})
    assert form.is_valid()
    form.save(domain_override="portal.example.com")

    record = EmailRecord.objects.get()
    assert (record.kind, record.to, record.status) == ("password_reset", user.email, "queued")
    assert "http://portal.example.com/" in record.message
    raw = raw_message(record)
    assert "portal.example.com" not in raw
    assert crypto.decrypt(raw) == record.message


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("Password reset on portal.example.com", "password_reset"),
        ("[VPN Portal] Password Reset Email", "password_reset"),
        ("[VPN Portal] Please Confirm Your Email Address", "email_verification"),
        ("[VPN Portal] Sign-In Code", "login_code"),
        ("[VPN Portal] Password Changed", "other"),
    ],
)
def test_a_message_without_portal_headers_gets_its_kind_from_its_subject(subject, kind):
    assert payload.kind_from_subject(subject) == kind


@pytest.mark.django_db
def test_attachments_and_the_html_part_survive_the_queue():
    message = mail.EmailMultiAlternatives("Invoice", "See the PDF.", to=["carol@example.com"])
    message.attach_alternative("<p>See the <b>PDF</b>.</p>", "text/html")
    message.attach("INV-1.pdf", b"%PDF-1.7 \x00\xff", "application/pdf")
    record = EmailRecordFactory(message=payload.pack(message))

    tasks.deliver_email.apply(args=[record.pk])

    [delivered] = mail.outbox
    assert delivered.alternatives == [("<p>See the <b>PDF</b>.</p>", "text/html")]
    assert delivered.attachments == [("INV-1.pdf", b"%PDF-1.7 \x00\xff", "application/pdf")]


# Failures ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_delivery_is_tried_again_with_growing_backoff(settings, failing_delivery):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 30
    record = EmailRecordFactory()

    tasks.deliver_email.apply(args=[record.pk])  # the retry it sends is not due yet: nothing runs
    record.refresh_from_db()
    first_wait = record.due_at - timezone.now()
    EmailRecord.objects.filter(pk=record.pk).update(due_at=timezone.now())
    tasks.deliver_email.apply(args=[record.pk])
    record.refresh_from_db()
    second_wait = record.due_at - timezone.now()

    assert failing_delivery.calls == 2
    assert (record.status, record.attempts) == ("queued", 2)
    assert record.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=37.5)
    assert timedelta(seconds=55) < second_wait <= timedelta(seconds=75)


@pytest.mark.django_db
def test_a_delivery_failing_every_time_is_marked_failed_with_the_reason(settings, failing_delivery):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    record = EmailRecordFactory()

    tasks.deliver_email.apply(args=[record.pk])

    record.refresh_from_db()
    assert failing_delivery.calls == 3
    assert (record.status, record.attempts, record.sent_at) == ("failed", 3, None)
    assert record.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_recipient_refused_for_good_is_failed_at_once(settings):
    backends.RejectingBackend.calls = 0
    settings.NOTIFICATIONS_DELIVERY_BACKEND = "tests.notifications.backends.RejectingBackend"
    record = EmailRecordFactory(to="nobody@example.com")

    tasks.deliver_email.apply(args=[record.pk])

    record.refresh_from_db()
    assert backends.RejectingBackend.calls == 1
    assert (record.status, record.attempts) == ("failed", 1)
    assert "No such user" in record.last_error


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_email_cannot_be_delivered_still_succeeds(
    client, settings, eager_tasks, failing_delivery
):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2

    response = confirm(client)  # the worker's delivery runs right here, and fails twice

    assert response.status_code == 200
    record = EmailRecord.objects.get()
    assert (record.status, record.attempts) == ("failed", 2)
    assert "Connection unexpectedly closed" in record.last_error


# Lost task messages -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_request_succeeds_and_the_sweep_delivers_later(
    client, settings, monkeypatch, eager_tasks
):
    with monkeypatch.context() as patch:
        patch.setattr("celery.canvas.Signature.apply_async", refuse_like_a_dead_broker)
        response = confirm(client)
    record = EmailRecord.objects.get()
    assert response.status_code == 200
    assert (record.status, mail.outbox) == ("queued", [])

    assert tasks.sweep_queued_emails.apply().get() == 0  # not overdue yet: its task may come
    overdue(record, settings)
    assert tasks.sweep_queued_emails.apply().get() == 1

    record.refresh_from_db()
    assert record.status == "sent"
    assert [m.subject for m in mail.outbox] == [SUBJECT]


@pytest.mark.django_db(transaction=True)
def test_the_sweep_resends_each_lost_message_once_per_period(settings, sent_tasks):
    lost = EmailRecordFactory()
    overdue(lost, settings)
    EmailRecordFactory()  # just queued: its task is on its way
    EmailRecordFactory(status=EmailStatus.FAILED)

    assert tasks.sweep_queued_emails.apply().get() == 1
    assert tasks.sweep_queued_emails.apply().get() == 0

    assert sent_tasks.named(DELIVER) == [(lost.pk,)]


@pytest.mark.django_db(transaction=True)
def test_a_message_whose_worker_died_while_sending_is_taken_back_by_the_sweep(eager_tasks):
    long_ago = timezone.now() - timedelta(minutes=11)
    record = EmailRecordFactory(status=EmailStatus.SENDING, claimed_at=long_ago, attempts=1)

    tasks.sweep_queued_emails.apply()

    record.refresh_from_db()
    assert (record.status, record.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


# At rest ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_stored_message_is_encrypted_at_rest():
    record = EmailRecordFactory(body="Confirm: https://portal.example.com/confirm/SECRET-TOKEN/")

    raw = raw_message(record)

    assert "SECRET-TOKEN" not in raw
    assert "SECRET-TOKEN" in crypto.decrypt(raw)


def raw_message(record: EmailRecord) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT message FROM notifications_emailrecord WHERE id = %s", [record.pk])
        return cursor.fetchone()[0]


def overdue(record: EmailRecord, settings) -> None:
    """As if its task message had been lost when it was recorded."""
    long_ago = timezone.now() - timedelta(seconds=settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS + 1)
    EmailRecord.objects.filter(pk=record.pk).update(due_at=long_ago, created_at=long_ago)


def refuse_like_a_dead_broker(*args: object, **kwargs: object) -> None:
    from kombu.exceptions import OperationalError

    raise OperationalError("[Errno 111] Connection refused")


@pytest.mark.django_db
def test_a_message_no_mail_server_could_take_is_refused_when_sent_not_recorded(sent_tasks):
    with pytest.raises(BadHeaderError):
        mail.send_mail("Hello\nBcc: everyone@example.com", "Hi.", None, ["carol@example.com"])

    assert not EmailRecord.objects.exists()

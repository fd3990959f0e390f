"""The email log in the admin: read-only, filtered and searched, the text body escaped (and none
of a message that opens an account), failed emails sent again by those allowed to."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from portal.notifications.models import EmailRecord, EmailStatus
from tests.factories import TEST_PASSWORD, EmailRecordFactory, StaffFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:notifications_emailrecord_changelist"


def change_url(record: EmailRecord) -> str:
    return reverse("admin:notifications_emailrecord_change", args=[record.pk])


def test_the_list_shows_recipient_kind_object_and_status_and_finds_by_recipient(
    admin_client, service_factory
):
    service = service_factory()
    EmailRecordFactory(
        to="carol@example.com",
        kind="welcome",
        object_type="provisioning.service",
        object_id=str(service.pk),
        status=EmailStatus.SENT,
    )
    EmailRecordFactory(to="dave@example.com", status=EmailStatus.FAILED)

    found = admin_client.get(reverse(CHANGELIST), {"q": "carol"}).content.decode()
    failed = admin_client.get(reverse(CHANGELIST), {"status__exact": "failed"}).content.decode()

    assert "carol@example.com" in found
    assert "dave@example.com" not in found
    assert reverse("admin:provisioning_service_change", args=[service.pk]) in found
    assert "welcome" in found
    assert "dave@example.com" in failed
    assert "carol@example.com" not in failed


def test_the_detail_page_shows_the_text_body_escaped_and_nothing_can_be_changed(admin_client):
    record = EmailRecordFactory(body="Hello <script>alert(1)</script>", last_error="<i>boom</i>")

    html = admin_client.get(change_url(record)).content.decode()

    assert '<pre class="email-body">Hello &lt;script&gt;alert(1)&lt;/script&gt;</pre>' in html
    assert "<script>alert(1)" not in html
    assert "<i>boom</i>" not in html
    assert 'name="_save"' not in html
    assert admin_client.post(change_url(record), {"to": "x@example.com"}).status_code == 403
    delete = reverse("admin:notifications_emailrecord_delete", args=[record.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:notifications_emailrecord_add")).status_code == 403
    assert EmailRecord.objects.get().to == record.to


def test_the_body_of_a_password_reset_is_not_shown(admin_client):
    record = EmailRecordFactory(kind="password_reset", body="Reset: https://x.example/reset/TOKEN/")

    html = admin_client.get(change_url(record)).content.decode()

    assert "TOKEN" not in html
    assert "Not shown: it holds a key to the customer" in html


def test_resend_queues_the_failed_emails_again_and_leaves_the_others(
    admin_client, sent_tasks, django_capture_on_commit_callbacks
):
    failed = EmailRecordFactory(status=EmailStatus.FAILED, attempts=5, last_error="SMTP down")
    sent = EmailRecordFactory(status=EmailStatus.SENT, attempts=1)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse(CHANGELIST),
            {"action": "resend_failed", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )

    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts) == ("queued", 0)
    assert sent.status == "sent"
    assert sent_tasks.named("notifications.deliver_email") == [(failed.pk,)]
    words = response.content.decode()
    assert "1 email(s) queued to be sent again." in words
    assert "1 email(s) left as they are" in words


def test_staff_who_may_only_view_emails_cannot_resend_them(client, sent_tasks):
    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_emailrecord"))
    client.login(username=viewer.username, password=TEST_PASSWORD)
    failed = EmailRecordFactory(status=EmailStatus.FAILED)

    page = client.get(reverse(CHANGELIST))
    client.post(reverse(CHANGELIST), {"action": "resend_failed", "_selected_action": [failed.pk]})

    assert page.status_code == 200
    assert "resend_failed" not in page.content.decode()
    failed.refresh_from_db()
    assert failed.status == "failed"
    assert sent_tasks.sent == []

"""A message sent in a request, delivered by a real Celery worker in its own process, through the
file backend it is configured with (DEBUG, no EMAIL_HOST)."""

import pytest
from django.urls import reverse

from portal.notifications.models import EmailRecord
from tests.notifications.helpers import mail_files_with, wait_for_email
from tests.notifications.urls import SUBJECT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.notifications.urls")]


def test_a_real_worker_delivers_a_message_sent_in_a_request_once(live_worker, client):
    response = client.post(reverse("confirm_order"), {"email": "erin@example.com"})

    assert response.status_code == 200
    record = wait_for_email(pk=EmailRecord.objects.get().pk)
    assert (record.status, record.attempts, record.last_error) == ("sent", 1, "")
    [delivered] = mail_files_with("To: erin@example.com")
    assert f"Subject: {SUBJECT}" in delivered
    assert "Thank you for your order." in delivered

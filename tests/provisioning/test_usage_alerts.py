"""Usage alerts: the customer's monthly traffic threshold on a service; the pull announces the
month it is passed once per threshold, notifications emails the figures, the traffic page sets
it (POST, CSRF, own services only)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.notifications import payload
from portal.notifications.models import EmailRecord
from portal.notifications.usage_alert import usage_alert_email_send
from provisioning.models import BYTES_PER_GB, UsageAlert, UsageSnapshot
from provisioning.usage_alerts import MAX_THRESHOLD_GB, usage_alert_set, usage_alerts_check
from tests.factories import ProductFactory, ServiceFactory

pytestmark = pytest.mark.django_db

ALERT_TASK = "notifications.send_usage_alert"
METERED = {"metric_download": True, "metric_upload": True}


@pytest.fixture
def metered_service(customer):
    return ServiceFactory(
        customer=customer, product=ProductFactory(settings=METERED), on_panel=True
    )


def snapshot_of(service, gb_down: float, gb_up: float, *, day: date | None = None) -> UsageSnapshot:
    day = day or timezone.now().date()
    snapshot, _ = UsageSnapshot.objects.update_or_create(
        service=service,
        year=day.year,
        month=day.month,
        defaults={
            "download_bytes": int(gb_down * BYTES_PER_GB),
            "upload_bytes": int(gb_up * BYTES_PER_GB),
            "pulled_at": timezone.now(),
        },
    )
    return snapshot


def check_in_commit(django_capture_on_commit_callbacks, snapshots) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return usage_alerts_check(snapshots)


def test_passing_the_threshold_is_announced_once_per_threshold_and_month(
    metered_service, sent_tasks, django_capture_on_commit_callbacks
):
    usage_alert_set(service=metered_service, threshold_gb=10)
    today = timezone.now().date()

    assert (
        check_in_commit(django_capture_on_commit_callbacks, [snapshot_of(metered_service, 6, 3.9)])
        == 0
    )
    assert sent_tasks.named(ALERT_TASK) == []

    over = snapshot_of(metered_service, 6, 4)  # download and upload together: exactly 10 GB
    assert check_in_commit(django_capture_on_commit_callbacks, [over]) == 1
    assert check_in_commit(django_capture_on_commit_callbacks, [over]) == 0  # the next pull
    assert sent_tasks.named(ALERT_TASK) == [(metered_service.pk, today.year, today.month, 10)]

    usage_alert_set(service=metered_service, threshold_gb=12)  # a new threshold: armed again
    assert (
        check_in_commit(django_capture_on_commit_callbacks, [snapshot_of(metered_service, 8, 4)])
        == 1
    )
    assert sent_tasks.named(ALERT_TASK)[-1] == (metered_service.pk, today.year, today.month, 12)


def test_only_this_months_snapshot_alerts(metered_service, sent_tasks):
    usage_alert_set(service=metered_service, threshold_gb=1)
    last_month = timezone.now().date().replace(day=1) - timedelta(days=1)
    assert usage_alerts_check([snapshot_of(metered_service, 50, 5, day=last_month)]) == 0
    assert UsageAlert.objects.get().alerted_for == ""


def test_a_service_without_an_alert_or_with_it_removed_is_never_announced(
    metered_service, sent_tasks
):
    snapshot = snapshot_of(metered_service, 500, 50)
    assert usage_alerts_check([snapshot]) == 0
    usage_alert_set(service=metered_service, threshold_gb=1)
    usage_alert_set(service=metered_service, threshold_gb=None)
    assert usage_alerts_check([snapshot]) == 0
    assert not UsageAlert.objects.exists()


@pytest.mark.parametrize("threshold", [0, MAX_THRESHOLD_GB + 1])
def test_a_threshold_out_of_range_is_refused(metered_service, threshold):
    with pytest.raises(ValueError, match="A threshold is 1 to"):
        usage_alert_set(service=metered_service, threshold_gb=threshold)


def test_the_alert_email_names_the_months_figures_once(metered_service, settings):
    settings.EMAIL_BACKEND = "portal.notifications.backends.QueuedEmailBackend"
    snapshot = snapshot_of(metered_service, 10.5, 1.25)
    args = {
        "service_id": metered_service.pk,
        "year": snapshot.year,
        "month": snapshot.month,
        "threshold_gb": 10,
    }

    assert usage_alert_email_send(**args) is True
    assert usage_alert_email_send(**args) is False

    record = EmailRecord.objects.get(kind="usage_alert")
    assert record.once_key == (
        f"usage_alert:service:{metered_service.pk}:{snapshot.year}-{snapshot.month:02d}:10"
    )
    text = payload.text_body(record.message)
    assert "has used 11.750 GB" in text
    assert "10.500 GB download, 1.250 GB upload" in text
    assert "more than the 10 GB you asked" in text
    assert f"/services/{metered_service.pk}/traffic/?year={snapshot.year}" in text


def test_no_email_without_a_snapshot(metered_service):
    today = timezone.now().date()
    assert not usage_alert_email_send(
        service_id=metered_service.pk, year=today.year, month=today.month, threshold_gb=1
    )


# The traffic page's form ---------------------------------------------------------------------


def test_the_customer_sets_changes_and_removes_the_alert(signed_in, metered_service):
    url = reverse("client_area:service_usage_alert", args=[metered_service.pk])
    response = signed_in.post(url, {"threshold_gb": "50"}, follow=True)
    assert UsageAlert.objects.get(service=metered_service).threshold_gb == 50
    assert "passes 50 GB" in response.content.decode()

    page = signed_in.get(reverse("client_area:service_traffic", args=[metered_service.pk]))
    assert 'value="50"' in page.content.decode()

    signed_in.post(url, {"threshold_gb": "80"})
    assert UsageAlert.objects.get(service=metered_service).threshold_gb == 80
    signed_in.post(url, {"remove": "1"})
    assert not UsageAlert.objects.exists()


@pytest.mark.parametrize("value", ["", "0", "-3", "2.5", "abc", str(MAX_THRESHOLD_GB + 1)])
def test_a_bad_threshold_is_refused_with_a_message(signed_in, metered_service, value):
    url = reverse("client_area:service_usage_alert", args=[metered_service.pk])
    response = signed_in.post(url, {"threshold_gb": value}, follow=True)
    assert "Enter a whole number of GB" in response.content.decode()
    assert not UsageAlert.objects.exists()


def test_another_customers_service_is_404_and_get_is_405(signed_in, other_customer):
    theirs = ServiceFactory(
        customer=other_customer, product=ProductFactory(settings=METERED), on_panel=True
    )
    url = reverse("client_area:service_usage_alert", args=[theirs.pk])
    assert signed_in.post(url, {"threshold_gb": "5"}).status_code == 404
    assert signed_in.get(url).status_code == 405
    assert not UsageAlert.objects.exists()


def test_an_unmetered_service_offers_no_alert(signed_in, customer):
    service = ServiceFactory(customer=customer, on_panel=True)
    page = signed_in.get(reverse("client_area:service_traffic", args=[service.pk]))
    assert 'id="usage-alert"' not in page.content.decode()
    url = reverse("client_area:service_usage_alert", args=[service.pk])
    response = signed_in.post(url, {"threshold_gb": "5"}, follow=True)
    assert "cannot alert you" in response.content.decode()
    assert not UsageAlert.objects.exists()

"""traffic.json: the per-day traffic of the customer's own service, straight from the panel.

Runs against a real simulator; the client is backdated so the previous month has history.
"""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from provisioning.client_area import api
from provisioning.client_area.messages import RATE_LIMITED, read_failed
from provisioning.exceptions import PanelReadFailed, ReadFailure
from provisioning.models import ModuleLogEntry, Service, ServiceStatus
from tests.factories import ServiceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


@pytest.fixture
def live_service(simulator, server_for, product_for, customer) -> Service:
    """An active service whose client was created on the simulator 60 days ago."""
    server = server_for(simulator)
    name = f"vpn-traffic-{uuid.uuid4().hex[:8]}"
    simulator.knob(
        "POST", "clients", {"name": name, "network_name": "office", "created_days_ago": 60}
    )
    created = timezone.now() - timedelta(days=60)
    service = ServiceFactory(
        customer=customer,
        product=product_for((server, "office")),
        server=server,
        network="office",
        remote_name=name,
        status=ServiceStatus.ACTIVE,
        create_posted_at=created,
        activated_at=created,
    )
    Service.objects.filter(pk=service.pk).update(created_at=created)
    service.refresh_from_db()
    return service


def previous_month() -> date:
    return timezone.localdate().replace(day=1) - timedelta(days=1)


def traffic_url(service: Service, **params) -> str:
    url = reverse("client_area:service_traffic_json", args=[service.pk])
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}?{query}" if query else url


def test_previous_month_matches_the_panel_day_by_day(owner_client, live_service, panel):
    month = previous_month()

    response = owner_client.get(traffic_url(live_service, year=month.year, month=month.month))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    expected = panel.traffic(live_service.remote_name, month.year, month.month)
    assert data["year"] == month.year
    assert data["month"] == month.month
    assert data["days"] == [
        {"date": d.day.isoformat(), "download": d.download, "upload": d.upload} for d in expected
    ]
    assert len(data["days"]) == month.day  # every day of a past month
    assert data["total_download"] == sum(d.download for d in expected) > 0
    assert data["total_upload"] == sum(d.upload for d in expected) > 0
    # one attempt, module-logged against the service
    entries = ModuleLogEntry.objects.filter(service=live_service, action="traffic")
    assert entries.count() == 1
    assert entries.get().path.endswith(
        f"client/{live_service.remote_name}/traffic/{month.year}/{month.month}"
    )


def test_current_month_runs_up_to_today(owner_client, live_service):
    today = timezone.localdate()

    data = owner_client.get(traffic_url(live_service, year=today.year, month=today.month)).json()

    assert [d["date"] for d in data["days"]][-1] == today.isoformat()
    assert data["total_download"] == sum(d["download"] for d in data["days"])
    assert data["total_upload"] == sum(d["upload"] for d in data["days"])


def test_a_future_month_is_empty_without_asking_the_panel(owner_client, live_service):
    today = timezone.now().date().replace(month=6, day=15)

    with time_machine.travel(datetime(today.year, 6, 15, 12, tzinfo=UTC), tick=False):
        response = owner_client.get(
            traffic_url(live_service, year=today.year, month=today.month + 1)
        )

    assert response.status_code == 200
    assert response.json() == {
        "year": today.year,
        "month": today.month + 1,
        "days": [],
        "total_download": 0,
        "total_upload": 0,
    }
    assert not ModuleLogEntry.objects.filter(action="traffic").exists()


@pytest.mark.parametrize(
    ("year_offset", "month", "message"),
    [
        (None, 1, "Choose a year"),
        (-4, 1, "Choose a year"),
        (1, 1, "Choose a year"),
        ("abc", 1, "Choose a year"),
        ("²", 1, "Choose a year"),  # a digit to str.isdigit, not to int()
        ("9" * 5000, 1, "Choose a year"),  # beyond int()'s digit limit
        ("٢٠٢٦", 1, "Choose a year"),  # Arabic-Indic digits: ASCII only
        (0, None, "Choose a month between 1 and 12."),
        (0, 0, "Choose a month between 1 and 12."),
        (0, 13, "Choose a month between 1 and 12."),
        (0, "x", "Choose a month between 1 and 12."),
        (0, "-1", "Choose a month between 1 and 12."),
        (0, "¹", "Choose a month between 1 and 12."),
    ],
)
def test_invalid_periods_are_a_400_with_a_clear_message(
    owner_client, live_service, year_offset, month, message
):
    params = {}
    this_year = timezone.localdate().year
    if year_offset is not None:
        params["year"] = this_year + year_offset if isinstance(year_offset, int) else year_offset
    if month is not None:
        params["month"] = month

    response = owner_client.get(traffic_url(live_service, **params))

    assert response.status_code == 400
    assert "no-store" in response["Cache-Control"]
    assert message in response.json()["error"]
    assert not ModuleLogEntry.objects.filter(action="traffic").exists()


def test_the_oldest_offered_year_is_accepted(owner_client, live_service):
    oldest = timezone.localdate().year - 3
    Service.objects.filter(pk=live_service.pk).update(
        created_at=timezone.now() - timedelta(days=6 * 366)
    )

    response = owner_client.get(traffic_url(live_service, year=oldest, month=1))

    assert response.status_code == 200
    assert response.json()["total_download"] == 0  # long before the client existed


def test_a_year_before_the_service_was_created_is_refused(owner_client, live_service):
    created = timezone.localtime(live_service.created_at).year

    response = owner_client.get(traffic_url(live_service, year=created - 1, month=12))

    assert response.status_code == 400
    assert not ModuleLogEntry.objects.filter(action="traffic").exists()


def test_another_customers_service_is_a_404(other_client, live_service):
    month = previous_month()

    response = other_client.get(traffic_url(live_service, year=month.year, month=month.month))

    assert response.status_code == 404
    assert response.json() == {"error": "No such service."}
    assert "no-store" in response["Cache-Control"]
    assert not ModuleLogEntry.objects.filter(action="traffic").exists()


def test_anonymous_is_sent_to_login(client: Client, live_service):
    response = client.get(traffic_url(live_service, year=2000, month=1))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_service_not_provisioned_is_a_409(owner_client, service_factory):
    service = service_factory(status="pending")
    month = previous_month()

    response = owner_client.get(traffic_url(service, year=month.year, month=month.month))

    assert response.status_code == 409
    assert response.json() == {"error": "This service is not set up yet."}
    assert "no-store" in response["Cache-Control"]


def test_a_terminated_service_is_a_409(owner_client, live_service):
    Service.objects.filter(pk=live_service.pk).update(status=ServiceStatus.TERMINATED)
    month = previous_month()

    response = owner_client.get(traffic_url(live_service, year=month.year, month=month.month))

    assert response.status_code == 409


def test_a_panel_that_is_down_is_a_503_with_a_clear_message(owner_client, live_service, simulator):
    simulator.stop()
    month = previous_month()

    response = owner_client.get(traffic_url(live_service, year=month.year, month=month.month))

    assert response.status_code == 503
    assert response.json() == {
        "error": read_failed(PanelReadFailed(ReadFailure.UNREACHABLE), place="traffic")
    }
    assert "no-store" in response["Cache-Control"]
    entries = ModuleLogEntry.objects.filter(service=live_service, action="traffic")
    assert entries.count() == 1  # a single attempt, logged as an error
    assert entries.get().outcome == "error"


def test_requests_are_rate_limited_per_user(owner_client, other_client, live_service, monkeypatch):
    monkeypatch.setattr(api, "TRAFFIC_RATE_LIMIT", 2)
    url = traffic_url(live_service, year="bad", month=1)  # no panel call needed to count

    statuses = [owner_client.get(url).status_code for _ in range(3)]

    assert statuses == [400, 400, 429]
    limited = owner_client.get(url)
    assert limited.json() == {"error": RATE_LIMITED}
    assert int(limited["Retry-After"]) >= 1
    assert "no-store" in limited["Cache-Control"]
    # another user has a budget of their own
    assert other_client.get(url).status_code == 404

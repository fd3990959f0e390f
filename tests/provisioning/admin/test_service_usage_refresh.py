"""The service page's "Metric statistics" block and its Refresh now button (a POST): one try,
the error shown at once; the background task retries the same error instead."""

import pytest

from provisioning import tasks
from provisioning.models import Service, ServiceStatus, UsageSnapshot
from provisioning.usage import bytes_to_gb
from tests.factories import ProductFactory
from vpnpanel import PanelClient

pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture
def metered_service(simulator, server_for, service_factory):
    server = server_for(simulator)
    client = PanelClient(simulator.url, simulator.token).create_client(
        network_name="office", name="metered_1"
    )
    product = ProductFactory(name="Metered", settings={"metric_download": True})
    return service_factory(
        product=product,
        server=server,
        network="office",
        remote_name=client.name,
        status=ServiceStatus.ACTIVE,
    )


def test_refresh_now_pulls_this_months_usage_and_shows_it(csrf_admin_client, metered_service):
    url = f"/admin/provisioning/service/{metered_service.pk}/change/"
    before = csrf_admin_client.get(url)
    token = before.cookies["csrftoken"].value

    response = csrf_admin_client.post(
        f"/admin/provisioning/service/{metered_service.pk}/refresh-usage/",
        {"csrfmiddlewaretoken": token},
        follow=True,
    )

    snapshot = UsageSnapshot.objects.get(service=metered_service)
    page = response.content.decode()
    assert "Bandwidth Usage Download (GB)" in before.content.decode()
    assert "never" in before.content.decode()
    assert f"{bytes_to_gb(snapshot.download_bytes)} GB" in page
    assert "Usage refreshed" in page


def test_refresh_now_refuses_get_and_a_post_without_csrf(csrf_admin_client, metered_service):
    url = f"/admin/provisioning/service/{metered_service.pk}/refresh-usage/"

    assert csrf_admin_client.get(url).status_code == 405
    assert csrf_admin_client.post(url).status_code == 403
    assert not UsageSnapshot.objects.exists()


def test_refresh_now_with_the_panel_down_shows_the_error(admin_client, metered_service, simulator):
    simulator.stop()

    response = admin_client.post(
        f"/admin/provisioning/service/{metered_service.pk}/refresh-usage/", follow=True
    )

    assert "Usage could not be refreshed" in response.content.decode()
    assert not UsageSnapshot.objects.exists()


def traffic_calls(simulator, service: Service) -> int:
    prefix = f"/api/v1/client/{service.remote_name}/traffic/"
    return sum(1 for c in simulator.knob("GET", "calls") if c["path"].startswith(prefix))


def test_refresh_now_tries_the_panel_once_and_shows_its_error(
    admin_client, metered_service, simulator
):
    simulator.knob("POST", "faults", {"html_error_next": 1})  # a proxy's 502 page, once

    response = admin_client.post(
        f"/admin/provisioning/service/{metered_service.pk}/refresh-usage/", follow=True
    )

    assert "Usage could not be refreshed" in response.content.decode()
    assert traffic_calls(simulator, metered_service) == 1
    assert not UsageSnapshot.objects.exists()


def test_usage_task_retries_the_same_error_and_stores_the_usage(metered_service, simulator):
    simulator.knob("POST", "faults", {"html_error_next": 1})

    tasks.refresh_service_usage.apply(args=[metered_service.pk]).get()

    assert traffic_calls(simulator, metered_service) == 2
    assert UsageSnapshot.objects.filter(service=metered_service).exists()


def test_refresh_now_is_rate_limited_per_service(admin_client, metered_service, simulator):
    url = f"/admin/provisioning/service/{metered_service.pk}/refresh-usage/"
    for _ in range(3):
        admin_client.post(url)
    simulator.knob("POST", "calls/reset")

    response = admin_client.post(url, follow=True)

    assert "wait a minute" in response.content.decode()
    traffic_calls = [c for c in simulator.knob("GET", "calls") if "/traffic/" in c["path"]]
    assert traffic_calls == []

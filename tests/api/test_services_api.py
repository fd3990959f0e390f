"""The customer's services in the API: the client area's reads, limits and words, as JSON.
Another customer's service and a staff user without a customer record: test_customer_ownership."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning.client_area import views as client_area_views
from provisioning.models import ModuleLogEntry, Service, ServiceStatus
from tests.api.test_tokens_and_errors import assert_error
from tests.billing.helpers import monthly_service_paid
from tests.factories import ServiceFactory
from vpnpanel import PanelClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_panel(simulator, server_for, product_for, customer):
    """An active service of the owner whose client exists on the simulator, made 60 days ago."""
    server = server_for(simulator)
    product = product_for(
        (server, "office"), name="VPN metered", download_mbps=50, metric_download=True
    )

    def make(**fields) -> Service:
        name = f"vpn-api-{uuid.uuid4().hex[:8]}"
        simulator.knob(
            "POST", "clients", {"name": name, "network_name": "office", "created_days_ago": 60}
        )
        created = timezone.now() - timedelta(days=60)
        service = ServiceFactory(
            customer=customer, product=product, server=server, network="office",
            remote_name=name, status=ServiceStatus.ACTIVE, activated_at=created, **fields,
        )  # fmt: skip
        Service.objects.filter(pk=service.pk).update(created_at=created)
        service.refresh_from_db()
        return service

    return make


@pytest.fixture
def panel(simulator) -> PanelClient:
    return PanelClient(simulator.url, simulator.token)


def test_the_list_shows_only_the_customers_own_services_paginated_and_filtered(
    owner_api, service_factory, other_customer
):
    mine = [service_factory(status=ServiceStatus.ACTIVE) for _ in range(3)]
    pending = service_factory()
    ServiceFactory(customer=other_customer, product=pending.product)

    everything = owner_api.get("/api/v1/services/").json()
    assert everything["count"] == 4
    assert {row["id"] for row in everything["results"]} == {s.pk for s in [*mine, pending]}

    page = owner_api.get("/api/v1/services/?page_size=2&page=2").json()
    assert [row["id"] for row in page["results"]] == [mine[1].pk, mine[0].pk]
    assert page["previous"] is not None
    assert page["next"] is None

    active = owner_api.get("/api/v1/services/?status=active").json()
    assert {row["id"] for row in active["results"]} == {s.pk for s in mine}
    error = assert_error(owner_api.get("/api/v1/services/?status=nonsense"), 400, "invalid")
    assert "status" in error["fields"]


def test_a_service_shows_its_plan_and_the_next_due_date_billing_knows(
    owner_api, customer, product, sent_tasks
):
    subscription = monthly_service_paid(customer, product)

    body = owner_api.get(f"/api/v1/services/{subscription.service_id}/").json()

    assert body["status"] == "active"
    assert body["status_label"] == "Active"
    assert body["plan"] == {
        "product_id": product.pk, "name": "VPN 100", "download_mbps": 100, "upload_mbps": 0,
        "metered": False,
    }  # fmt: skip
    assert body["next_due"] == subscription.next_due_date.isoformat()
    listed = owner_api.get("/api/v1/services/").json()["results"]
    assert listed[0]["next_due"] == subscription.next_due_date.isoformat()


def test_the_vpn_client_and_its_configs_are_the_panels(owner_api, on_panel, panel):
    service = on_panel()
    record = panel.get_client(service.remote_name)

    response = owner_api.get(f"/api/v1/services/{service.pk}/vpn-client/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["client"]["username"] == record.username
    assert body["client"]["password"] == record.password
    assert body["client"]["ipv4"] == record.ipv4
    wireguard = next(c for c in body["configs"] if c["protocol"] == "wireguard")
    assert wireguard["config"] == panel.wireguard_config(service.remote_name)
    assert wireguard["error"] is None


def test_the_vpn_client_counts_against_the_config_limit(owner_api, on_panel, monkeypatch):
    service = on_panel()
    monkeypatch.setattr(client_area_views, "CONFIG_RATE_LIMIT", 2)
    url = f"/api/v1/services/{service.pk}/vpn-client/"

    answers = [owner_api.get(url).status_code for _ in range(2)]
    refused = owner_api.get(url)

    assert answers == [200, 200]
    assert_error(refused, 429, "throttled")
    assert int(refused["Retry-After"]) >= 1
    config = owner_api.get(f"/api/v1/services/{service.pk}/configs/wireguard/")
    assert_error(config, 429, "throttled")


def test_one_config_is_the_panels_text(owner_api, on_panel, panel):
    service = on_panel()

    body = owner_api.get(f"/api/v1/services/{service.pk}/configs/wireguard/").json()

    assert body["config"] == panel.wireguard_config(service.remote_name)
    assert body["filename"] == f"{service.remote_name}.conf"
    assert_error(owner_api.get(f"/api/v1/services/{service.pk}/configs/pptp/"), 404, "not_found")


def test_a_one_time_link_is_made_once_per_post_and_rate_limited_per_service(
    owner_api, on_panel, monkeypatch
):
    service = on_panel()
    monkeypatch.setattr(client_area_views, "OTL_RATE_LIMIT", 2)
    url = f"/api/v1/services/{service.pk}/one-time-link/"

    links = [owner_api.post(url) for _ in range(2)]
    refused = owner_api.post(url)

    assert [r.status_code for r in links] == [201, 201]
    assert links[0].json()["link"] != links[1].json()["link"]
    error = assert_error(refused, 429, "throttled")
    assert error["message"].startswith(client_area_views.OTL_RATE_LIMITED_MESSAGE)
    assert int(refused["Retry-After"]) >= 1
    assert_error(owner_api.get(url), 405, "method_not_allowed")


def test_live_status_goes_through_the_shared_cache(owner_api, on_panel, simulator):
    service = on_panel()
    simulator.knob("POST", f"clients/{service.remote_name}/session", {"online": True})
    simulator.knob("POST", "calls/reset")

    answers = [owner_api.get(f"/api/v1/services/{service.pk}/live-status/") for _ in range(3)]

    assert [a.json()["online"] for a in answers] == [True, True, True]
    online_calls = [c for c in simulator.knob("GET", "calls") if c["path"].endswith("online")]
    assert len(online_calls) == 1


def test_traffic_is_the_panels_month_and_refuses_a_bad_month(owner_api, on_panel, panel):
    service = on_panel()
    month = timezone.now().date().replace(day=1) - timedelta(days=1)
    url = f"/api/v1/services/{service.pk}/traffic/"

    body = owner_api.get(url, {"year": month.year, "month": month.month}).json()

    expected = panel.traffic(service.remote_name, month.year, month.month)
    assert [d["download"] for d in body["days"]] == [d.download for d in expected]
    assert body["total_upload"] == sum(d.upload for d in expected)
    assert ModuleLogEntry.objects.filter(service=service, action="traffic").count() == 1
    error = assert_error(owner_api.get(url, {"year": month.year, "month": 13}), 400, "invalid")
    assert "month" in error["fields"]
    assert_error(owner_api.get(url, {"year": 1999, "month": 1}), 400, "invalid")


def test_a_service_not_set_up_is_a_409_in_the_customers_words(owner_api, service_factory):
    service = service_factory(status=ServiceStatus.PENDING)

    error = assert_error(
        owner_api.get(f"/api/v1/services/{service.pk}/vpn-client/"), 409, "not_on_panel"
    )

    assert error["message"] == "This service is not set up yet."


def test_a_panel_that_is_down_is_a_503_without_the_panels_text(owner_api, on_panel, simulator):
    service = on_panel()
    simulator.stop()

    error = assert_error(
        owner_api.get(f"/api/v1/services/{service.pk}/configs/wireguard/"), 503,
        "panel_unavailable",
    )  # fmt: skip

    assert error["message"].startswith("The VPN server could not be reached just now.")


def test_the_usage_alert_is_set_and_removed_on_a_metered_plan(owner_api, on_panel, service_factory):
    service = on_panel()
    url = f"/api/v1/services/{service.pk}/usage-alert/"

    assert owner_api.put(url, {"threshold_gb": 50}, format="json").json() == {"threshold_gb": 50}
    assert owner_api.get(f"/api/v1/services/{service.pk}/").json()["usage_alert_gb"] == 50
    assert owner_api.put(url, {"threshold_gb": None}, format="json").status_code == 200
    assert owner_api.get(f"/api/v1/services/{service.pk}/").json()["usage_alert_gb"] is None
    unmetered = service_factory(status=ServiceStatus.ACTIVE)
    refused = owner_api.put(
        f"/api/v1/services/{unmetered.pk}/usage-alert/", {"threshold_gb": 5}, format="json"
    )
    assert_error(refused, 409, "refused")


def test_requests_over_the_users_rate_are_a_429_with_retry_after(owner_api, settings):
    settings.API_THROTTLE_RATES = {"user": "2/min", "anon": "2/min"}

    answers = [owner_api.get("/api/v1/services/") for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert_error(answers[2], 429, "throttled")
    assert 1 <= int(answers[2]["Retry-After"]) <= 60

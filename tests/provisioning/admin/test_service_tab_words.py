"""The admin's service tab words a failed panel read for staff: what failed and the panel's own
error, never the customer's sentence ("…the rest of this page works as usual")."""

import pytest
from django.urls import reverse
from django.utils import timezone

from provisioning.client_area.messages import WHAT_TO_DO
from tests.factories import ServiceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


@pytest.fixture
def service_on_stopped_panel(simulator, server_for, product_for):
    server = server_for(simulator)
    simulator.knob("POST", "clients", {"name": "vpn-tab", "network_name": "office"})
    service = ServiceFactory(
        product=product_for((server, "office")),
        server=server,
        network="office",
        remote_name="vpn-tab",
        status="active",
        create_posted_at=timezone.now(),
    )
    simulator.stop()
    return service


def test_the_vpn_tab_tells_staff_the_panel_error(admin_client, service_on_stopped_panel):
    url = reverse("admin:provisioning_service_change", args=[service_on_stopped_panel.pk])

    html = admin_client.get(url).content.decode()

    assert "Panel unreachable: " in html
    assert "Connection refused" in html or "could not connect" in html.lower()
    assert WHAT_TO_DO["page"] not in html


def test_the_admin_connection_status_json_uses_staff_words(admin_client, service_on_stopped_panel):
    url = reverse(
        "admin:provisioning_service_connection_status", args=[service_on_stopped_panel.pk]
    )

    response = admin_client.get(url)

    assert response.status_code == 503
    assert response.json()["error"].startswith("Panel unreachable: ")
    assert WHAT_TO_DO["live"] not in response.json()["error"]

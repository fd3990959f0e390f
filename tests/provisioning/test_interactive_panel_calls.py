"""Panel calls a page waits on: one attempt with short timeouts, so a hung panel costs one short
wait and an inline error, never a page that hangs for the full retry budget."""

import pytest
from django.test import override_settings

from provisioning.models import ModuleLogEntry, ServiceStatus
from provisioning.panels import panel_for
from tests.factories import ServiceFactory
from vpnpanel import Timeouts

pytestmark = pytest.mark.django_db


@override_settings(PANEL_INTERACTIVE_CONNECT_TIMEOUT=1.5, PANEL_INTERACTIVE_READ_TIMEOUT=4)
def test_interactive_clients_make_one_attempt_with_the_short_timeouts(simulator, server_for):
    client = panel_for(server_for(simulator), action="test", interactive=True)

    assert client.timeouts == Timeouts(connect=1.5, read=4)
    assert client.retry.attempts == 1


@override_settings(PANEL_INTERACTIVE_READ_TIMEOUT=0.5)
def test_a_hung_panel_gives_the_service_page_inline_errors_after_one_round(
    client, simulator, panel, customer, server_for, product_for
):
    server = server_for(simulator)
    panel.create_client(network_name="office", name="vpn-hung")
    service = ServiceFactory(
        customer=customer,
        product=product_for((server, "office")),
        server=server,
        network="office",
        remote_name="vpn-hung",
        status=ServiceStatus.ACTIVE,
    )
    simulator.knob("POST", "faults", {"timeout_rate": 1.0, "hang_seconds": 3})
    client.force_login(customer.user)

    response = client.get(f"/services/{service.pk}/")

    assert response.status_code == 200
    assert "could not be reached" in response.content.decode()
    # Client and network are asked together, once each; nothing more after they time out.
    attempts = ModuleLogEntry.objects.filter(server=server)
    assert sorted(a.path for a in attempts) == ["client/vpn-hung", "network/office"]
    assert {(a.outcome, a.http_status, a.attempt) for a in attempts} == {("error", None, 1)}

"""The panel's licence slots are stored on its Server whenever provisioning already reads
system/status (placement, Test connection, a product's networks), so the admin dashboard can
show them without calling a panel; a panel that does not answer leaves the last figures."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from provisioning.panel_overview import servers_networks
from provisioning.panels import panel_for
from provisioning.placement import product_availability

pytestmark = pytest.mark.django_db


def test_placement_stores_the_slots_the_panel_reported(simulator, server_for, product_for):
    server = server_for(simulator)
    product = product_for((server, "office"))
    simulator.knob("POST", "slots", {"total": 7})
    before = timezone.now()

    assert product_availability(product).available

    server.refresh_from_db()
    assert (server.panel_accounts_used, server.panel_accounts_total) == (0, 7)
    assert before <= server.panel_status_at <= timezone.now()


def test_test_connection_stores_the_slots(admin_client, simulator, server_for):
    server = server_for(simulator)
    simulator.knob("POST", "slots", {"total": 10})
    with panel_for(server, action="test") as panel:
        panel.create_client(network_name="office", name="someone-elses")

    admin_client.post(reverse("admin:provisioning_server_test_connection", args=[server.pk]))

    server.refresh_from_db()
    assert (server.panel_accounts_used, server.panel_accounts_total) == (1, 10)
    assert server.panel_status_at is not None


def test_a_panel_that_does_not_answer_keeps_its_last_figures(simulator, server_for):
    server = server_for(simulator)
    servers_networks([server])
    server.refresh_from_db()
    seen_at = server.panel_status_at
    simulator.stop()

    servers_networks([server])

    server.refresh_from_db()
    assert (server.panel_accounts_used, server.panel_accounts_total) == (0, 50)
    assert server.panel_status_at == seen_at

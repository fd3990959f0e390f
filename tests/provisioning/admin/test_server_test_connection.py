"""Test connection on the server page: what a live panel says, the exact error of a dead one, the
module log, and the token never rendered."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from provisioning.models import ModuleLogEntry, Server
from provisioning.panels import panel_for
from vpnpanel import PanelError, RetryPolicy

pytestmark = pytest.mark.django_db


def connection_url(server: Server) -> str:
    return reverse("admin:provisioning_server_test_connection", args=[server.pk])


def test_live_panel_shows_slots_licence_and_networks(admin_client, simulator, server_for):
    server = server_for(simulator)

    response = admin_client.post(connection_url(server))

    html = response.content.decode()
    assert response.status_code == 200
    assert "OK: the panel answered all three calls." in html
    assert '<td class="slots">0 / 50</td>' in html
    assert "Valid" in html
    assert "10.0.6.0/24" in html
    assert "10.0.7.0/29" in html
    assert '<span class="protocol-badge">ikev2</span>' in html
    logged = ModuleLogEntry.objects.filter(server=server, action="test_connection")
    assert set(logged.values_list("method", "path", "outcome")) == {
        ("GET", "system/status", "ok"),
        ("GET", "license", "ok"),
        ("GET", "network", "ok"),
    }
    assert len({entry.correlation_id for entry in logged}) == 1


def test_stopped_panel_shows_the_exact_error_of_each_call(admin_client, simulator, server_for):
    server = server_for(simulator)
    simulator.stop()
    expected = {}
    with panel_for(server, action="test", retry=RetryPolicy(attempts=1)) as panel:
        for name, call in (("system/status", panel.system_status), ("network", panel.networks)):
            with pytest.raises(PanelError) as exc:
                call()
            expected[name] = str(exc.value)

    html = admin_client.post(connection_url(server)).content.decode()

    assert "The panel did not answer every call" in html
    for message in expected.values():
        assert escape(message) in html
    errors = ModuleLogEntry.objects.filter(server=server, outcome="error", action="test_connection")
    assert errors.count() == 3


def test_test_connection_refuses_get(admin_client, offline_server):
    assert admin_client.get(connection_url(offline_server)).status_code == 405
    assert not ModuleLogEntry.objects.exists()


def test_test_connection_needs_the_csrf_token(csrf_admin_client, offline_server):
    assert csrf_admin_client.post(connection_url(offline_server)).status_code == 403
    assert not ModuleLogEntry.objects.exists()


def test_change_page_has_the_button_and_the_local_cap_but_never_the_token(
    admin_client, simulator, server_for
):
    server = server_for(simulator, max_accounts=7)

    html = admin_client.get(
        reverse("admin:provisioning_server_change", args=[server.pk])
    ).content.decode()

    assert connection_url(server) in html
    assert 'name="max_accounts" value="7"' in html
    assert simulator.token not in html


def test_token_appears_in_no_admin_page_after_a_test(admin_client, simulator, server_for):
    server = server_for(simulator)
    pages = [admin_client.post(connection_url(server)).content.decode()]
    pages.append(
        admin_client.get(reverse("admin:provisioning_modulelogentry_changelist")).content.decode()
    )
    for entry in ModuleLogEntry.objects.all():
        url = reverse("admin:provisioning_modulelogentry_change", args=[entry.pk])
        pages.append(admin_client.get(url).content.decode())
    pages.append(admin_client.get(reverse("admin:provisioning_server_changelist")).content.decode())

    assert len(pages) == 6
    for html in pages:
        assert simulator.token not in html


def test_panel_strings_in_the_report_are_escaped(admin_client, simulator, server_for):
    server = server_for(simulator)
    simulator.knob("PUT", "networks/office", {"description": "<img src=x onerror=alert(1)>"})

    html = admin_client.post(connection_url(server)).content.decode()

    assert "<img src=x onerror=alert(1)>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html

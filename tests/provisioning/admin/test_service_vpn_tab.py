"""The service tab's live blocks: connection status JSON, VPN client table, config panels,
bandwidth, inline errors when the panel is down, and the licence errorbox hook."""

import pytest
from django.core.cache import cache
from django.test import Client

from licensing.status import cache_key, record_licence_check
from provisioning import live
from provisioning.models import ServiceStatus
from tests.factories import ProductFactory, UserFactory
from vpnpanel import PanelClient

KEY = "VPNL1.the-tab-products-key"


@pytest.fixture
def lab_service(simulator, server_for, service_factory):
    """A client on the lab network: WireGuard and AmneziaWG on, OpenVPN and IKEv2 off."""
    server = server_for(simulator)
    panel = PanelClient(simulator.url, simulator.token)
    client = panel.create_client(network_name="lab", name="tab_1")
    panel.update_client(client.name, b_download=50, b_upload=0)
    product = ProductFactory(
        name="Tab", settings={"download_mbps": 100, "upload_mbps": 0}, license_key=KEY
    )
    yield service_factory(
        product=product,
        server=server,
        network="lab",
        remote_name=client.name,
        status=ServiceStatus.ACTIVE,
    )
    cache.delete(cache_key(product.pk))


def change_url(service) -> str:
    return f"/admin/provisioning/service/{service.pk}/change/"


def status_url(service) -> str:
    return f"/admin/provisioning/service/{service.pk}/connection-status/"


def test_client_table_struck_protocol_greyed_button_and_configs(
    admin_client, lab_service, simulator
):
    panel = PanelClient(simulator.url, simulator.token)
    remote = panel.get_client("tab_1")

    response = admin_client.get(change_url(lab_service))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="service-vpn-client"' in page
    assert f"<code>{remote.username}</code>" in page
    assert f"<code>{remote.password}</code>" in page
    assert "Down: 50 Mbit/s · Up: Unlimited" in page
    assert '<span class="vpn-state vpn-state--enabled">Enabled</span>' in page
    assert (
        '<span class="vpn-proto vpn-proto--openvpn vpn-proto--off" data-protocol="openvpn" '
        'title="OpenVPN is disabled on network lab">OpenVPN</span>'
    ) in page
    assert 'class="vpn-proto vpn-proto--wireguard" data-protocol="wireguard"' in page
    assert (
        '<button type="button" class="button vpn-view vpn-view--off" data-protocol="openvpn" '
        'aria-disabled="true" title="OpenVPN is disabled on network lab">View OpenVPN</button>'
    ) in page
    assert 'title="IKEv2 is disabled on network lab">View IKEv2</button>' in page
    assert 'data-vpn-view="wireguard"' in page
    assert 'data-vpn-view="amneziawg"' in page  # offered because lab has it
    assert 'id="vpn-panel-openvpn"' not in page
    assert panel.wireguard_config("tab_1").split("\n")[0] in page
    assert 'data-filename="tab_1.conf"' in page
    assert 'src="data:image/png;base64,' in page
    # Bandwidth summary from the product.
    assert '<td data-field="download">100 Mbit/s</td>' in page
    assert '<td data-field="upload">Unlimited</td>' in page
    assert f'data-url="{status_url(lab_service)}"' in page
    assert "portal/connection_status.js" in page
    # No secret beyond the client's own credentials.
    assert simulator.token not in page
    assert lab_service.server.api_token not in page
    # Licence hook: nothing by default.
    assert 'id="licence-error"' not in page


def test_panel_down_renders_inline_errors(admin_client, lab_service, simulator):
    simulator.stop()

    response = admin_client.get(change_url(lab_service))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-role="client-error"' in page
    assert 'data-role="configs-error"' in page
    assert "could not be reached" in page
    assert 'id="service-events"' in page
    assert '<td data-field="download">100 Mbit/s</td>' in page


def test_no_vpn_blocks_for_a_service_without_a_client(admin_client, service_factory):
    service = service_factory(status=ServiceStatus.PENDING)

    page = admin_client.get(change_url(service)).content.decode()

    assert 'id="service-vpn-client"' not in page
    assert "portal/connection_status.js" not in page


def test_connection_status_json_for_staff(admin_client, lab_service):
    response = admin_client.get(status_url(lab_service))

    assert response.status_code == 200
    assert (
        response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    )
    data = response.json()
    assert data["online"] in (True, False)
    assert {"checked_at", "poll_seconds", "sessions"} <= set(data)
    assert admin_client.post(status_url(lab_service)).status_code == 405


def test_connection_status_json_panel_down(admin_client, lab_service, simulator):
    cache.delete_many(live.cache_keys(lab_service.server))  # cached per server for an interval
    simulator.stop()

    response = admin_client.get(status_url(lab_service))

    assert response.status_code == 503
    assert "error" in response.json()


def test_connection_status_json_refuses_non_staff(lab_service):
    user = UserFactory(username="plain")
    client = Client()
    client.force_login(user)

    response = client.get(status_url(lab_service))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert Client().get(status_url(lab_service)).status_code == 302


def test_failed_licence_check_shows_an_escaped_errorbox(admin_client, lab_service):
    record_licence_check(
        lab_service.product.pk, key=KEY, error="Licence <b>expired</b>.", valid_for=60
    )

    page = admin_client.get(change_url(lab_service)).content.decode()

    assert (
        '<p class="errornote licence-error" id="licence-error" role="alert">'
        "Licence &lt;b&gt;expired&lt;/b&gt;.</p>"
    ) in page


def test_no_errorbox_after_a_successful_or_without_a_licence_check(admin_client, lab_service):
    assert 'id="licence-error"' not in admin_client.get(change_url(lab_service)).content.decode()

    record_licence_check(lab_service.product.pk, key=KEY, error="Licence expired.", valid_for=60)
    record_licence_check(lab_service.product.pk, key=KEY, valid_for=60)

    assert 'id="licence-error"' not in admin_client.get(change_url(lab_service)).content.decode()

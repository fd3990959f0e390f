"""The admin service tab in a real browser: View WireGuard opens config + QR; greyed buttons."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from portal.accounts.models import Customer
from provisioning.models import Product, Server, ServerGroup, Service
from tests.e2e.conftest import _screenshot_path
from vpnpanel import PanelClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lab_service(simulator) -> Service:
    PanelClient(simulator.url, simulator.token).create_client(network_name="lab", name="erin-vpn")
    user = get_user_model().objects.create_user("erin", "erin@example.com", "pw-erin-123")
    customer = Customer.objects.create(user=user)
    group = ServerGroup.objects.create(name="Europe")
    server = Server.objects.create(
        name="panel-e2e",
        group=group,
        hostname="127.0.0.1",
        port=int(simulator.url.rsplit(":", 1)[1]),
        secure=False,
        api_token=simulator.token,
    )
    product = Product.objects.create(name="VPN 100", group=group, settings={})
    return Service.objects.create(
        customer=customer,
        product=product,
        server=server,
        network="lab",
        remote_name="erin-vpn",
        status="active",
        activated_at=timezone.now(),
    )


def test_admin_views_wireguard_and_sees_greyed_openvpn(browser_page, lab_service, simulator):
    get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    expected = PanelClient(simulator.url, simulator.token).wireguard_config("erin-vpn")
    page = browser_page
    url = f"/admin/provisioning/service/{lab_service.pk}/change/"
    page.goto(url)
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{url}")

    # The live status block fills in from the admin JSON endpoint.
    page.locator("#connection-status [data-role=checked]").filter(has_text="checked").wait_for()

    panel = page.locator("#vpn-panel-wireguard")
    assert panel.is_hidden()
    page.get_by_role("button", name="View WireGuard").click()
    panel.wait_for(state="visible")
    assert panel.locator("pre").inner_text().strip() == expected.strip()
    qr = panel.locator("img.vpn-qr")
    assert qr.is_visible()
    assert qr.get_attribute("src").startswith("data:image/png;base64,")

    # Download: the config on the page, under the client's name.
    with page.expect_download() as info:
        panel.get_by_role("button", name="Download").click()
    assert info.value.suggested_filename == "erin-vpn.conf"

    openvpn = page.locator(".vpn-view--off[data-protocol=openvpn]")
    assert openvpn.get_attribute("aria-disabled") == "true"
    assert openvpn.get_attribute("title") == "OpenVPN is disabled on network lab"
    assert openvpn.evaluate("el => getComputedStyle(el).cursor") == "not-allowed"
    struck = page.locator(".vpn-proto--off[data-protocol=openvpn]")
    assert "line-through" in struck.evaluate("el => getComputedStyle(el).textDecorationLine")

    page.screenshot(path=str(_screenshot_path("admin_service_tab_wireguard")), full_page=True)

    page.get_by_role("button", name="Close WireGuard").click()
    panel.wait_for(state="hidden")
    # The admin has no favicon (a 404 the browser logs); the scripts themselves ran (above).
    assert [e for e in page.js_errors if "Failed to load resource" not in e] == []

"""The admin service tab in a real browser: View WireGuard opens config + QR; greyed buttons."""

import pytest

from tests.e2e.conftest import _screenshot_path, admin_log_in
from vpnpanel import PanelClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_views_wireguard_and_sees_greyed_openvpn(
    browser_page, panel_service_factory, simulator
):
    lab_service = panel_service_factory("erin", network="lab")
    expected = PanelClient(simulator.url, simulator.token).wireguard_config("erin-vpn")
    page = browser_page
    admin_log_in(page, f"/admin/provisioning/service/{lab_service.pk}/change/")

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

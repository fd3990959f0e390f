"""The VPN client card and configs in a real browser: copy, download, QR lightbox, one-time link."""

import pytest

from tests.e2e.conftest import _screenshot_path, log_in
from vpnpanel import PanelClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_copy_download_qr_lightbox_and_one_time_link(
    browser_page, panel_service_factory, simulator
):
    panel_service = panel_service_factory("dave")
    page = browser_page
    expected = PanelClient(simulator.url, simulator.token).wireguard_config("dave-vpn")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, "dave")
    page.goto(f"/services/{panel_service.pk}/")

    card = page.locator("#vpn-client")
    assert card.locator("[data-role=client-status]").inner_text() == "Enabled"
    badges = card.locator(".vpn-badge").all_inner_texts()
    assert badges == ["WireGuard", "OpenVPN", "IKEv2"]

    # Copy: the clipboard holds the panel's config and the button says so.
    wireguard = page.locator("#vpn-config-wireguard")
    wireguard.get_by_role("button", name="Copy config").click()
    wireguard.get_by_role("button", name="Copied!").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == expected

    # Download: the panel's config under the client's name.
    with page.expect_download() as info:
        wireguard.get_by_role("link", name="Download").click()
    download = info.value
    assert download.suggested_filename == "dave-vpn.conf"
    with open(download.path(), encoding="utf-8") as fh:
        assert fh.read() == expected

    # QR lightbox: click to enlarge, Esc closes; the close button works too.
    lightbox = page.locator("#vpn-lightbox")
    wireguard.locator("[data-lightbox]").click()
    lightbox.wait_for(state="visible")
    assert lightbox.locator("img").get_attribute("src").startswith("data:image/png;base64,")
    page.screenshot(path=str(_screenshot_path("configs_qr_lightbox_open")), full_page=False)
    page.keyboard.press("Escape")
    lightbox.wait_for(state="hidden")
    wireguard.locator("[data-lightbox]").click()
    lightbox.wait_for(state="visible")
    lightbox.get_by_role("button", name="Close").click()
    lightbox.wait_for(state="hidden")

    # One-time link: POST, redirect, shown once.
    page.get_by_role("button", name="Generate one-time link").click()
    page.wait_for_url(f"**/services/{panel_service.pk}/#one-time-link")
    link = page.locator("#vpn-otl-url").inner_text()
    assert link.startswith(simulator.url + "/otl/")
    page.screenshot(path=str(_screenshot_path("configs_one_time_link")), full_page=True)
    page.reload()
    assert page.locator("#vpn-otl-url").count() == 0

    assert page.js_errors == []

"""The VPN client card and configs in a real browser: copy, download, QR lightbox, one-time link."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from portal.accounts.models import Customer
from provisioning.models import Product, Server, ServerGroup, Service
from tests.e2e.conftest import _screenshot_path
from vpnpanel import PanelClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def panel_service(simulator) -> Service:
    simulator.knob("POST", "clients", {"name": "dave-vpn", "network_name": "office"})
    user = get_user_model().objects.create_user("dave", "dave@example.com", "pw-dave-123")
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
        network="office",
        remote_name="dave-vpn",
        status="active",
        activated_at=timezone.now(),
    )


def log_in(page, service: Service) -> None:
    page.goto(f"/services/{service.pk}/")
    page.fill("#id_username", "dave")
    page.fill("#id_password", "pw-dave-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/services/{service.pk}/")


def test_copy_download_qr_lightbox_and_one_time_link(browser_page, panel_service, simulator):
    page = browser_page
    expected = PanelClient(simulator.url, simulator.token).wireguard_config("dave-vpn")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, panel_service)

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

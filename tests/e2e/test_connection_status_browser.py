"""The live Connection status block in a real browser, against a real panel simulator."""

import re
import time

import pytest
from django.core.cache import cache

from provisioning.client_area.messages import read_failed
from provisioning.exceptions import PanelReadFailed, ReadFailure
from provisioning.live import cache_keys
from provisioning.models import Service
from tests.e2e.conftest import _screenshot_path, log_in
from vpnpanel import PanelClient

UNREACHABLE_MESSAGE = read_failed(PanelReadFailed(ReadFailure.UNREACHABLE), place="live")

pytestmark = pytest.mark.django_db(transaction=True)

CONNECTION_URL_PART = "/connection.json"
BYTES = r"\d+ B|\d+\.\d\d [KMGT]B"


@pytest.fixture
def live_service(panel_service_factory) -> Service:
    """An active service of customer ``dora`` with client ``dora-vpn`` on the simulator."""
    return panel_service_factory("dora")


def _open_service_page(page, service: Service) -> None:
    log_in(page, "dora")
    page.goto(f"/services/{service.pk}/")
    page.locator("#connection-status").wait_for()


def _forget_cached_answer(service: Service) -> None:
    """Drop the panel answer the server caches for a poll interval (only this server's key)."""
    cache.delete(cache_keys(service.server)[0])


def _unexpected_errors(page) -> list[str]:
    # A 4xx/5xx fetch is logged by Chromium as "Failed to load resource"; that is the API's
    # documented answer, not a script error.
    return [e for e in page.js_errors if "Failed to load resource" not in e]


def test_online_wireguard_card_then_offline_after_refresh(
    browser_page, simulator, live_service, settings
):
    vpn_client = PanelClient(simulator.url, simulator.token).get_client(live_service.remote_name)
    # Long interval: nothing changes by itself during the test, so Offline proves Refresh works.
    settings.CLIENT_AREA_POLL_SECONDS = 60
    simulator.knob(
        "POST",
        f"clients/{live_service.remote_name}/session",
        {"online": True, "protocol": "wireguard"},
    )
    page = browser_page
    _open_service_page(page, live_service)
    block = page.locator("#connection-status")

    pill = block.locator("[data-role=pill]")
    pill.filter(has_text="Online").wait_for()
    assert "conn-pill--online" in pill.get_attribute("class")
    card = block.locator(".conn-card--wireguard")
    card.wait_for()
    assert card.locator(".conn-card__title").inner_text().strip() == "WireGuard"
    assert card.locator("svg.conn-icon").count() == 1
    assert card.locator("[data-field=ip]").inner_text() == vpn_client.ipv4
    assert card.locator("[data-field=network]").inner_text() == "office"
    assert card.locator("[data-field=endpoint]").inner_text().startswith("203.0.113.")
    assert "ago" in card.locator("[data-field=handshake]").inner_text() or "just now" in (
        card.locator("[data-field=handshake]").inner_text()
    )
    for field in ("downloaded", "uploaded"):  # Portal.format.bytes, as the traffic totals
        assert re.fullmatch(BYTES, card.locator(f"[data-field={field}]").inner_text())
    assert block.locator(".conn-card").count() == 1
    assert block.locator("[data-role=checked]").inner_text().startswith("Last checked")
    assert block.locator("[data-role=error]").is_hidden()
    page.screenshot(path=str(_screenshot_path("connection_status_online")), full_page=True)

    simulator.knob("POST", f"clients/{live_service.remote_name}/session", {"online": False})
    _forget_cached_answer(live_service)
    refresh = block.get_by_role("button", name="Refresh")
    refresh.click()
    pill.filter(has_text="Offline").wait_for()
    assert "conn-pill--offline" in pill.get_attribute("class")
    assert block.locator(".conn-card").count() == 0
    assert "Not connected" in block.inner_text()
    expect_enabled(refresh)
    assert _unexpected_errors(page) == []


def test_polls_by_itself_and_pauses_while_the_tab_is_hidden(
    browser_page, simulator, live_service, settings
):
    settings.CLIENT_AREA_POLL_SECONDS = 1
    page = browser_page
    requests: list[float] = []
    page.on(
        "request",
        lambda req: requests.append(time.monotonic()) if CONNECTION_URL_PART in req.url else None,
    )
    simulator.knob("POST", f"clients/{live_service.remote_name}/session", {"online": False})
    _open_service_page(page, live_service)
    pill = page.locator("#connection-status [data-role=pill]")
    pill.filter(has_text="Offline").wait_for()

    # No click: the next poll (1 s, and the server's cache lasts as long) picks the session up.
    simulator.knob(
        "POST", f"clients/{live_service.remote_name}/session", {"online": True, "protocol": "ikev2"}
    )
    pill.filter(has_text="Online").wait_for()
    page.locator("#connection-status .conn-card--ikev2").wait_for()

    # Hidden tab: polling stops.
    page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    page.wait_for_timeout(500)  # let a fetch already under way finish
    hidden_since = len(requests)
    page.wait_for_timeout(3000)
    assert len(requests) == hidden_since

    # Visible again: an immediate fetch, then polling resumes.
    with page.expect_request(lambda req: CONNECTION_URL_PART in req.url, timeout=2000):
        page.evaluate(
            """() => {
                Object.defineProperty(document, "hidden", {configurable: true, get: () => false});
                document.dispatchEvent(new Event("visibilitychange"));
            }"""
        )
    page.wait_for_timeout(2500)
    assert len(requests) >= hidden_since + 2
    assert _unexpected_errors(page) == []


def test_unreachable_panel_shows_an_inline_error_and_the_page_keeps_working(
    browser_page, simulator, live_service, settings
):
    settings.CLIENT_AREA_POLL_SECONDS = 2
    simulator.stop()
    page = browser_page
    _open_service_page(page, live_service)
    block = page.locator("#connection-status")

    error = block.locator("[data-role=error]")
    error.filter(has_text=UNREACHABLE_MESSAGE).wait_for()
    assert block.locator("[data-role=pill]").inner_text() == "Unknown"
    assert block.locator(".conn-card").count() == 0
    assert block.locator("[data-role=placeholder]").is_hidden()

    # The rest of the page is still there and usable.
    info = page.locator("#service-information")
    assert info.is_visible()
    assert live_service.remote_name in info.inner_text()
    assert "VPN 100" in info.inner_text()
    refresh = block.get_by_role("button", name="Refresh")
    expect_enabled(refresh)
    refresh.click()
    error.filter(has_text=UNREACHABLE_MESSAGE).wait_for()
    expect_enabled(refresh)
    page.screenshot(path=str(_screenshot_path("connection_status_unreachable")), full_page=True)
    assert _unexpected_errors(page) == []


def expect_enabled(locator) -> None:
    from playwright.sync_api import expect

    expect(locator).to_be_enabled(timeout=10_000)

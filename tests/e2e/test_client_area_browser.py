"""The customer's way through the client area in a real browser: a new service being set up."""

import contextlib
import re
import time

import pytest

from provisioning import services
from provisioning.models import Service, ServiceStatus
from provisioning.services import ProvisioningRetry
from tests.e2e.conftest import _screenshot_path, log_in
from tests.factories import TEST_PASSWORD, order_service

pytestmark = pytest.mark.django_db(transaction=True)

CONNECTION_URL_PART = "/connection.json"


@pytest.fixture
def new_service(customer_factory, panel_product, worker_runs_here) -> Service:
    """Ordered just now: pending, its create not sent to a worker (the test runs it)."""
    return order_service(customer_factory("carol"), panel_product)


def run_until_settled(service: Service, timeout: float = 15) -> Service:
    """What the worker does: run the pending action, and again once a retry is due."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(ProvisioningRetry):
            services.service_run_pending_action(service_id=service.pk)
        service.refresh_from_db()
        if service.status in (ServiceStatus.ACTIVE, ServiceStatus.FAILED):
            return service
        assert time.monotonic() < deadline, f"still {service.status}: {service.last_error}"
        time.sleep(0.2)


def open_progress(page, service: Service) -> None:
    page.goto(f"/services/{service.pk}/")
    progress = page.locator("#setup-progress")
    progress.wait_for()
    assert progress.locator("[data-role=label]").inner_text() == "Waiting to be set up"
    assert "steps__item--current" in progress.locator("[data-step=pending]").get_attribute("class")
    # Survives only if the page is never loaded again.
    page.evaluate("window.__marker = 1")


def current_step(page, status: str):
    return page.locator(f"#setup-progress [data-step={status}].steps__item--current")


def test_progress_moves_in_place_and_the_active_page_is_swapped_in_without_a_reload(
    browser_page, new_service, simulator, settings
):
    settings.CLIENT_AREA_POLL_SECONDS = 60  # no poll by itself: a Refresh is one request
    page = browser_page
    page.goto("/services/")
    assert page.url.endswith("/accounts/login/?next=/services/")
    page.fill("#id_username", "carol")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/services/")
    page.click("text=VPN 100")
    page.wait_for_url(f"**/services/{new_service.pk}/")
    open_progress(page, new_service)

    # The first create answers 503: the service stays provisioning until the retry.
    simulator.knob(
        "POST", "faults", {"rules": [{"method": "POST", "path": "^client$", "status": 503}]}
    )
    with pytest.raises(ProvisioningRetry):
        services.service_run_pending_action(service_id=new_service.pk)
    current_step(page, "provisioning").wait_for()
    assert page.locator("#setup-progress [data-role=label]").inner_text() == "Being set up"
    assert page.locator(".service-header [data-role=status-pill]").inner_text() == "Being set up"
    assert "steps__item--done" in page.locator("[data-step=pending]").get_attribute("class")

    assert run_until_settled(new_service).status == ServiceStatus.ACTIVE
    page.locator("#setup-progress").wait_for(state="detached")
    assert page.evaluate("window.__marker") == 1
    assert page.url.endswith(f"/services/{new_service.pk}/")
    assert page.locator(".service-header .pill").inner_text() == "Active"
    client_card = page.locator("#vpn-client")
    assert new_service.remote_name in client_card.locator("[data-field=name]").inner_text()
    assert client_card.locator("[data-role=client-status]").inner_text() == "Enabled"
    block = page.locator("#connection-status")
    block.locator("[data-role=pill]").filter(has_text=re.compile("^(Online|Offline)$")).wait_for()
    assert block.locator("[data-role=checked]").inner_text().startswith("Last checked")
    assert page.get_by_text("Turn on JavaScript").count() == 0

    # The swapped-in configs block was started too: its QR opens the lightbox.
    lightbox = page.locator("#vpn-lightbox")
    page.locator("#vpn-config-wireguard [data-lightbox]").click()
    lightbox.wait_for(state="visible")
    page.keyboard.press("Escape")
    lightbox.wait_for(state="hidden")

    # Starting the blocks again binds nothing twice: one request per Refresh.
    page.evaluate("Portal.connectionStatus.init(document); Portal.configs.init(document)")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if CONNECTION_URL_PART in r.url else None)
    block.get_by_role("button", name="Refresh").click()
    page.wait_for_timeout(1500)
    assert len(requests) == 1

    page.screenshot(path=str(_screenshot_path("setup_progress_swapped_in")), full_page=True)
    assert page.js_errors == []


def test_a_failed_setup_is_swapped_in_without_a_reload(browser_page, new_service, simulator):
    page = browser_page
    log_in(page, "carol")
    open_progress(page, new_service)

    simulator.knob("POST", "networks/office/fill")
    assert run_until_settled(new_service).status == ServiceStatus.FAILED

    page.locator("#setup-failed").wait_for()
    assert page.evaluate("window.__marker") == 1
    assert page.locator("#setup-progress").count() == 0
    assert page.locator(".service-header .pill").inner_text() == "Setup failed"
    assert page.locator("#connection-status").count() == 0
    assert page.js_errors == []

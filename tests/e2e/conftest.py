"""Browser tests: Playwright driving the system's Chromium against pytest-django's live server.

Locally a test skips when Chromium or Playwright is missing; under ``REQUIRE_SERVICES=1`` (CI)
it fails instead. A screenshot of the last page is kept in test-artifacts/screenshots/.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connections

from provisioning.models import Product, Server, Service
from provisioning.services import outbox
from tests.factories import TEST_PASSWORD, ServiceFactory, StaffFactory
from tests.services import service_unavailable

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _screenshot_path(test_name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / (re.sub(r"[^\w.-]+", "_", test_name) + ".png")


@pytest.fixture
def browser_page(live_server, monkeypatch, request) -> Iterator[object]:
    """A fresh browser page; ``page.base_url`` is the live server's address."""
    if not CHROMIUM.exists():
        service_unavailable(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_unavailable("playwright is not installed")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, so Django's async-safety guard must not refuse them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "console",
            lambda msg: errors.append(msg.text) if msg.type == "error" else None,
        )
        page.js_errors = errors
        try:
            yield page
        finally:
            try:
                page.screenshot(path=str(_screenshot_path(request.node.name)), full_page=True)
            finally:
                # While the event loop runs, Django keeps this thread's connections apart; close
                # them here, or one outlives the session and blocks dropping the test database.
                connections.close_all()
                context.close()
                browser.close()


@pytest.fixture(autouse=True)
def private_cache(private_cache):
    """Every browser test under the shared fixture's private cache keys (tests/conftest.py)."""


@pytest.fixture
def worker_runs_here(monkeypatch) -> None:
    """Provisioning's task messages are not sent: the test runs the worker's actions itself, and
    the live worker another test of this process may have started (tests/worker_fixtures.py)
    must not race it."""
    monkeypatch.setattr(outbox, "enqueue_on_commit", lambda *message: None)


def log_in(page, username: str) -> None:
    """Sign in as the customer ``username`` (made by ``customer_factory(username)``)."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/services/")


def admin_log_in(page, path: str) -> None:
    """Open the admin ``path`` as a new staff superuser."""
    staff = StaffFactory()
    page.goto(path)
    page.fill("#id_username", staff.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{path}")


@pytest.fixture
def panel_server(simulator, server_for) -> Server:
    """The simulator as a Server of group ``Europe``."""
    return server_for(simulator)


@pytest.fixture
def panel_product(panel_server, product_for) -> Product:
    """Product ``VPN 100`` (100/50 Mbit/s) deployed to the simulator's office network."""
    return product_for((panel_server, "office"), name="VPN 100", download_mbps=100, upload_mbps=50)


@pytest.fixture
def panel_service_factory(
    simulator, panel_server, panel_product, customer_factory
) -> Callable[..., Service]:
    """An active service of a new customer ``username`` whose client ``<username>-vpn`` is on
    the simulator's ``network``; ``created_days_ago`` gives the client traffic history."""

    def make(username: str, *, network: str = "office", created_days_ago: int = 0) -> Service:
        name = f"{username}-vpn"
        simulator.knob(
            "POST",
            "clients",
            {"name": name, "network_name": network, "created_days_ago": created_days_ago},
        )
        return ServiceFactory(
            on_panel=True,
            customer=customer_factory(username),
            product=panel_product,
            server=panel_server,
            network=network,
            remote_name=name,
        )

    return make

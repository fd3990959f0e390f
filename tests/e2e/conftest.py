"""Browser tests: Playwright driving the system's Chromium against pytest-django's live server.

Locally a test skips when Chromium or Playwright is missing; under ``REQUIRE_SERVICES=1`` (CI)
it fails instead. A screenshot of the last page is kept in test-artifacts/screenshots/.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

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
                context.close()
                browser.close()

"""Panel strings drawn by JavaScript stay text: a hostile panel's session cannot inject markup."""

import pytest

from tests.e2e.conftest import admin_log_in, log_in

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = {
    "protocol": "<img src=x onerror=window.__xss=1>",
    "network_name": "<script>window.__xss=1</script>",
    "endpoint": '"><img src=x onerror=window.__xss=1>',
    "ip": "<svg onload=window.__xss=1>",
}
# The connection-status card's field for each session string.
CARD_FIELDS = {"network_name": "network", "endpoint": "endpoint", "ip": "ip"}


@pytest.fixture
def hostile_service(panel_service_factory, simulator):
    service = panel_service_factory("vera")
    simulator.knob(
        "POST",
        f"clients/{service.remote_name}/session",
        {"online": True, "protocol": "wireguard", "fields": HOSTILE},
    )
    return service


def open_customer_page(page, service) -> None:
    log_in(page, "vera")
    page.goto(f"/services/{service.pk}/")


def open_admin_page(page, service) -> None:
    admin_log_in(page, f"/admin/provisioning/service/{service.pk}/change/")


@pytest.mark.parametrize("open_page", [open_customer_page, open_admin_page])
def test_session_strings_are_shown_as_text(browser_page, hostile_service, open_page):
    page = browser_page
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))
    open_page(page, hostile_service)

    card = page.locator("#connection-status .conn-card")
    card.wait_for()
    assert card.locator(".conn-card__title").inner_text().strip() == HOSTILE["protocol"]
    for key, field in CARD_FIELDS.items():
        assert card.locator(f"[data-field={field}]").inner_text() == HOSTILE[key]
    assert card.locator("img, script, svg:not(.conn-icon)").count() == 0
    assert page.evaluate("window.__xss") is None
    # Markup would have tried to run its handler and been stopped by the CSP, loudly.
    assert not [text for text in console if "Content Security Policy" in text]

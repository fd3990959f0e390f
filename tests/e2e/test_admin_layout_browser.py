"""Admin pages at a 1400 x 900 window: the module log, the connection card and the product form fit.

Each test measures the laid-out page (scroll widths, bounding boxes, lines of text) rather than the
CSS that produces it, and keeps a screenshot in test-artifacts/screenshots/.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning.models import Service
from provisioning.product_settings import DEFAULT_NAME_RULE
from tests.e2e.conftest import _screenshot_path, admin_log_in
from tests.factories import ModuleLogEntryFactory, ServerFactory

pytestmark = pytest.mark.django_db(transaction=True)

VIEWPORT = {"width": 1400, "height": 900}
LONG_PATH = "client/vpn-104857-2097152-qzxw-from-a-long-custom-naming-rule/traffic/2026/11"
LONG_ERROR = (
    "HTTPConnectionPool(host='de-fra-01.vpn.example.net', port=8443): Read timed out. "
    "(read timeout=10) while asking for client/vpn-104857-2097152-qzxw traffic"
)

# Lines the text in an element takes: its text's line boxes, told apart by their tops.
TEXT_LINES = """el => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const tops = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.data.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        tops.push(...[...range.getClientRects()].map(r => r.top));
    }
    tops.sort((a, b) => a - b);
    return tops.filter((top, i) => i === 0 || top - tops[i - 1] > 4).length;
}"""


def _box(locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not laid out"
    return box


def _right(box: dict[str, float]) -> float:
    return box["x"] + box["width"]


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < _right(b)
        and b["x"] < _right(a)
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


# For a label: how far its text starts after its input, and how far their middles are apart.
INPUT_AND_TEXT = """label => {
    const input = (label.htmlFor && document.getElementById(label.htmlFor))
        || label.querySelector("input");
    const box = input.getBoundingClientRect();
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
    const rects = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.data.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        rects.push(...range.getClientRects());
    }
    const first = rects[0];
    return {
        gap: first.left - box.right,
        dy: Math.abs((first.top + first.bottom) / 2 - (box.top + box.bottom) / 2),
    };
}"""


def _assert_beside_its_text(label) -> None:
    """The label's text is one line, starts a little after its input, level with it."""
    text = label.inner_text().strip()
    assert label.evaluate(TEXT_LINES) == 1, f"{text!r} wraps"
    found = label.evaluate(INPUT_AND_TEXT)
    assert 4 <= found["gap"] <= 20, f"{text!r}: {found['gap']} px after its input"
    assert found["dy"] <= 3, f"{text!r}: {found['dy']} px off its input's middle"


def test_module_log_changelist_shows_every_column_at_1400px(browser_page, panel_service_factory):
    service: Service = panel_service_factory("frank")
    far_server = ServerFactory(
        name="de-fra-01.vpn.example.net",
        hostname="de-fra-01.vpn.example.net",
        port=8443,
        secure=True,
    )
    now = timezone.now()
    rows = [
        (service.server, "client_area", "GET", f"client/{service.remote_name}", 200, "ok", ""),
        (far_server, "traffic", "GET", LONG_PATH, None, "error", LONG_ERROR),
        (service.server, "reconcile", "GET", "client/online", 200, "ok", ""),
        (far_server, "usage", "GET", LONG_PATH.replace("traffic", "amneziawg/config"), 503, "error",
         "Service Unavailable"),
    ]  # fmt: skip
    for minutes, (server, action, method, path, status, outcome, error) in enumerate(rows):
        ModuleLogEntryFactory(
            server=server,
            service=service,
            action=action,
            method=method,
            path=path,
            http_status=status,
            outcome=outcome,
            error=error,
            duration_ms=10_012.5,
            attempt=3,
            created_at=now - timedelta(minutes=minutes),
        )
    page = browser_page
    page.set_viewport_size(VIEWPORT)
    admin_log_in(page, "/admin/provisioning/modulelogentry/")

    table = page.locator("#result_list")
    table.wait_for()
    fits = table.evaluate("t => [t.scrollWidth, t.closest('.results').clientWidth]")
    assert fits[0] <= fits[1], f"table {fits[0]} px wide in a {fits[1]} px box"
    box = _box(page.locator("#changelist-form .results"))
    for column in ("http_status", "result", "duration", "attempt"):
        header = _box(page.locator(f"#result_list thead th.column-{column}"))
        assert box["x"] <= header["x"], column
        assert _right(header) <= min(VIEWPORT["width"], _right(box)) + 0.5, column
    # No cell spills into its neighbour (a long server name or path wraps or is cut).
    spilled = table.evaluate(
        """t => [...t.querySelectorAll("tbody td, tbody th")]
            .filter(cell => cell.scrollWidth > cell.clientWidth)
            .map(cell => cell.className + ": " + cell.textContent)"""
    )
    assert spilled == []
    # A cut-short path or error keeps its full text on hover.
    long_row = page.locator("#result_list tbody tr").nth(1)
    assert long_row.locator("td.field-call_path [title]").get_attribute("title") == LONG_PATH
    assert LONG_ERROR in (long_row.locator("td.field-result [title]").get_attribute("title"))
    page.screenshot(path=str(_screenshot_path("admin_layout_module_log")), full_page=True)


def test_admin_connection_card_keeps_endpoint_on_one_line(
    browser_page, panel_service_factory, simulator
):
    service: Service = panel_service_factory("gina")
    simulator.knob(
        "POST", f"clients/{service.remote_name}/session", {"online": True, "protocol": "wireguard"}
    )
    page = browser_page
    page.set_viewport_size(VIEWPORT)
    admin_log_in(page, f"/admin/provisioning/service/{service.pk}/change/")

    card = page.locator("#connection-status .conn-card--wireguard")
    card.wait_for()
    endpoint = card.locator("[data-field=endpoint]")
    assert endpoint.inner_text().startswith("203.0.113.")
    assert endpoint.evaluate(TEXT_LINES) == 1, f"{endpoint.inner_text()!r} is broken"
    handshake = card.locator("[data-field=handshake]")
    assert "ago" in handshake.inner_text() or "just now" in handshake.inner_text()
    lines = handshake.evaluate(TEXT_LINES)
    assert lines <= 2, f"{handshake.inner_text()!r} takes {lines} lines"
    assert _right(_box(card)) <= VIEWPORT["width"]
    page.screenshot(path=str(_screenshot_path("admin_layout_connection_card")), full_page=True)
    assert [e for e in page.js_errors if "Failed to load resource" not in e] == []


def test_product_form_shows_the_default_name_rule_whole_and_spaces_its_choices(
    browser_page, panel_product
):
    page = browser_page
    page.set_viewport_size(VIEWPORT)
    admin_log_in(page, f"/admin/provisioning/product/{panel_product.pk}/change/")

    rule = page.locator("#id_client_name_rule")
    assert rule.input_value() == DEFAULT_NAME_RULE
    widths = rule.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1], f"the rule needs {widths[0]} px in a {widths[1]} px input"

    # Placement radios: one a line, no overlap, each label's text on one line beside its button.
    choices = page.locator("#id_placement label")
    assert choices.count() == 2
    boxes = [_box(choices.nth(i)) for i in range(choices.count())]
    assert not _overlap(boxes[0], boxes[1])
    assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"] - 0.5
    for i in range(choices.count()):
        _assert_beside_its_text(choices.nth(i))
    # Checkboxes (metric billing): the same, box and label side by side.
    for name in ("metric_download", "metric_upload"):
        _assert_beside_its_text(page.locator(f"label[for=id_{name}]"))
    page.screenshot(path=str(_screenshot_path("admin_layout_product_form")), full_page=True)

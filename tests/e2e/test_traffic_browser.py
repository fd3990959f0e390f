"""Traffic statistics in a real browser: Chart.js under the strict CSP, totals from traffic.json."""

import json
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from provisioning.models import Service
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

UNITS = ["B", "KB", "MB", "GB", "TB"]


def human_bytes(count: int) -> str:
    """What Portal.format.bytes shows: 1000-based, two decimals (JS toFixed rounds half up)."""
    value = Decimal(count)
    index = 0
    while value >= 1000 and index < len(UNITS) - 1:
        value /= 1000
        index += 1
    if index == 0:
        return f"{count} B"
    # JS divides in binary floating point: reproduce that value exactly before rounding.
    exact = Decimal(count / 1000**index)
    return f"{exact.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)} {UNITS[index]}"


@pytest.fixture
def traffic_service(panel_service_factory) -> Service:
    return panel_service_factory("dave", created_days_ago=60)


def test_customer_loads_the_previous_months_traffic_chart(browser_page, traffic_service):
    page = browser_page
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    log_in(page, "dave")

    page.goto(f"/services/{traffic_service.pk}/")
    page.click("text=Traffic statistics")
    page.wait_for_url(f"**/services/{traffic_service.pk}/traffic/")
    # the current month is drawn on load
    page.wait_for_function(
        "() => { const c = document.getElementById('traffic-canvas');"
        " return window.Chart && c && Chart.getChart(c) !== undefined; }"
    )

    previous = timezone.localdate().replace(day=1) - timedelta(days=1)
    page.select_option("#traffic-year", str(previous.year))
    page.select_option("#traffic-month", str(previous.month))
    with page.expect_response(
        lambda r: "/traffic.json?" in r.url and f"month={previous.month}" in r.url
    ) as answer:
        page.click("#traffic-load")
    data = answer.value.json()
    assert answer.value.status == 200
    assert len(data["days"]) == previous.day
    assert data["total_download"] > 0
    assert data["total_upload"] > 0

    download_text = human_bytes(data["total_download"])
    upload_text = human_bytes(data["total_upload"])
    page.locator("#traffic-total-download", has_text=download_text).wait_for()
    page.locator("#traffic-total-upload", has_text=upload_text).wait_for()

    chart = page.evaluate(
        """() => {
          const chart = Chart.getChart(document.getElementById('traffic-canvas'));
          const canvas = chart.canvas;
          return {
            type: chart.config.type,
            labels: chart.data.labels.length,
            datasets: chart.data.datasets.map(d => ({
              label: d.label, points: d.data.length, sum: d.data.reduce((a, b) => a + b, 0),
              border: d.borderColor, fill: d.fill,
            })),
            width: canvas.width,
            height: canvas.height,
            ticks: chart.scales.y.ticks.map(t => t.label),
          };
        }"""
    )
    assert chart["type"] == "line"
    assert chart["labels"] == previous.day
    assert [d["label"] for d in chart["datasets"]] == ["Download", "Upload"]
    assert [d["points"] for d in chart["datasets"]] == [previous.day, previous.day]
    assert chart["datasets"][0]["sum"] == data["total_download"]
    assert chart["datasets"][1]["sum"] == data["total_upload"]
    assert chart["datasets"][0]["border"] == "#1d5fd1"  # download blue
    assert chart["datasets"][1]["border"] == "#1e7c3b"  # upload green
    assert all(d["fill"] for d in chart["datasets"])
    assert chart["width"] > 0
    assert chart["height"] > 0
    assert chart["ticks"][0] == "0 B"  # humanised Y axis
    assert all(tick.split()[-1] in UNITS for tick in chart["ticks"])
    # something was actually painted on the canvas
    assert page.evaluate(
        """() => {
          const c = document.getElementById('traffic-canvas');
          const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) return true; }
          return false;
        }"""
    )
    assert page.locator("#traffic-error").is_hidden()
    assert page.url.endswith(f"?year={previous.year}&month={previous.month}")

    # the tooltip is humanised too
    box = page.locator("#traffic-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.evaluate(
        """() => {
          const chart = Chart.getChart(document.getElementById('traffic-canvas'));
          const tip = chart.tooltip;
          return tip && tip.body ? tip.body.flatMap(b => b.lines) : [];
        }"""
    )
    assert tooltip, "no tooltip on hover"
    assert all(line.split()[-1] in UNITS for line in tooltip), json.dumps(tooltip)

    assert csp_violations == []
    assert page.js_errors == []


def test_a_panel_that_is_down_shows_the_error_inline(browser_page, traffic_service, simulator):
    simulator.stop()
    page = browser_page
    log_in(page, "dave")

    page.goto(f"/services/{traffic_service.pk}/traffic/")
    error = page.locator("#traffic-error")
    error.wait_for()
    assert "could not be reached" in error.inner_text()
    assert page.locator("#traffic-total-download").inner_text() == "—"
    # the only console error is the failed request itself, never a CSP violation
    assert not [e for e in page.js_errors if "Content Security Policy" in e]
    assert all("503" in e for e in page.js_errors), page.js_errors

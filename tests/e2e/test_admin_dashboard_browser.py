"""The admin dashboard in a real browser: a superadmin opens /admin/ with seeded data and sees
every block, and each panel's chart drawn by Chart.js under the strict CSP."""

import pytest

from tests.dashboard.seeding import seed
from tests.e2e.conftest import admin_log_in

pytestmark = pytest.mark.django_db(transaction=True)

# Whether a canvas has any drawn (non-transparent) pixel.
CANVAS_DRAWN = """canvas => {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) return true; }
    return false;
}"""


def test_superadmin_sees_every_block_and_each_panels_chart(browser_page, worker_runs_here):
    seed(panels=2, services=9)
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 1000})

    admin_log_in(page, "/admin/")

    for block in ["#attention-summary", "#dashboard-services", "#dashboard-money"]:
        assert page.locator(block).is_visible(), block
    services = page.locator("#dashboard-services")
    assert services.locator("tr", has_text="Active").locator("a").inner_text() == "4"
    money = page.locator("#dashboard-money")
    for label, shown in [
        ("New orders this month", "1"),
        ("Revenue this month", "27.00 EUR"),
        ("MRR", "9.00 EUR"),
        ("Overdue invoices", "1"),
        ("Overdue amount", "20.00 EUR"),
    ]:
        assert money.locator("tr", has_text=label).locator("a").inner_text() == shown, label
    attention = page.locator("#attention-summary")
    assert "1 reconciliation finding" in attention.inner_text()
    assert attention.locator("tr", has_text="Failed services").locator("a").inner_text() == "3"

    panels = page.locator("#dashboard-panels .dashboard-panel")
    assert panels.count() == 2
    for index in range(2):
        panel = panels.nth(index)
        assert "Slots: 3 / 50 used" in panel.inner_text()
        assert panel.locator("progress").get_attribute("value") == "3"
    page.wait_for_function(
        "() => window.Chart && [...document.querySelectorAll('canvas[data-panel-id]')]"
        ".every(c => Chart.getChart(c) !== undefined)"
    )
    charts = page.evaluate(
        """() => [...document.querySelectorAll('canvas[data-panel-id]')].map(canvas => {
            const chart = Chart.getChart(canvas);
            return {
                labels: chart.data.labels.length,
                datasets: chart.data.datasets.map(d => d.label),
                calls: chart.data.datasets[1].data.reduce((a, b) => a + b, 0),
                failures: chart.data.datasets[2].data.reduce((a, b) => a + b, 0),
                height: canvas.getBoundingClientRect().height,
            };
        })"""
    )
    assert [chart["labels"] for chart in charts] == [24, 24]
    assert charts[0]["datasets"] == ["Average latency (ms)", "Calls", "Failures"]
    assert sorted(chart["calls"] for chart in charts) == [4, 5]  # 9 logged calls over 2 panels
    assert sum(chart["failures"] for chart in charts) == 3  # calls 0, 4 and 8 failed
    assert all(chart["height"] > 100 for chart in charts)
    for canvas in page.locator("canvas[data-panel-id]").all():
        assert canvas.evaluate(CANVAS_DRAWN)
    assert page.js_errors == []  # no CSP violation, no script error

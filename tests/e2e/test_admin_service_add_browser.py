"""Admin Services → Add in a real browser: the new service's page shows Pending, then updates
itself in place (no reload) once the worker has provisioned it, VPN tab included."""

import pytest

from provisioning import services
from provisioning.models import Service, ServiceStatus
from tests.e2e.conftest import _screenshot_path, admin_log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_service_added_by_hand_turns_active_on_its_page_without_a_reload(
    browser_page, customer_factory, panel_product, worker_runs_here
):
    customer = customer_factory("frank")
    page = browser_page
    admin_log_in(page, "/admin/provisioning/service/add/")

    # The customer field is an autocomplete; give it the customer as a search would.
    page.evaluate(
        "([pk, label]) => { const s = document.getElementById('id_customer');"
        " s.add(new Option(label, pk, true, true)); }",
        [str(customer.pk), str(customer)],
    )
    page.select_option("#id_product", str(panel_product.pk))
    page.click("input[name=_save]")
    page.wait_for_url("**/change/")

    service = Service.objects.get(customer=customer)
    status = page.locator(".field-status_display .readonly")
    assert status.inner_text() == "Pending"
    assert "Create — queued" in page.locator(".field-pending_display .readonly").inner_text()
    page.evaluate("window.sameDocument = true")

    # The worker's run (in-process here, so the test decides when it happens).
    services.service_run_pending_action(service_id=service.pk)
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE, service.last_error

    status.filter(has_text="Active").wait_for()
    assert page.evaluate("window.sameDocument") is True  # updated in place, not reloaded
    page.locator("#service-vpn-client").filter(has_text=service.remote_name).wait_for()
    page.locator("#connection-status [data-role=checked]").filter(has_text="checked").wait_for()
    assert page.locator("#service-status-live").count() == 0  # nothing left to watch
    assert page.locator(".field-pending_display .readonly").inner_text() == "—"
    page.screenshot(path=str(_screenshot_path("admin_service_added_active")), full_page=True)
    assert [e for e in page.js_errors if "Failed to load resource" not in e] == []

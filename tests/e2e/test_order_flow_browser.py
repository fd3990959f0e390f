"""The whole order flow in a real browser: storefront → plan → cycle → cart → checkout → pay with
the demo gateway → the service on My services turns active, set up by a real Celery worker on the
panel simulator."""

import re
import time

import pytest

from portal.billing.models import Invoice
from portal.store.models import Order
from provisioning.models import Service, ServiceStatus
from tests.e2e.conftest import log_in
from tests.factories import PlanFactory, PlanPriceFactory
from tests.notifications.helpers import wait_for_email, wait_until_no_email_is_in_flight

pytestmark = pytest.mark.django_db(transaction=True)

SETUP_TIMEOUT_S = 30


@pytest.fixture
def shop(panel_product):
    """``VPN 100`` on sale (the simulator's office network), monthly or annually."""
    plan = PlanFactory(product=panel_product, slug="vpn-100")
    PlanPriceFactory(plan=plan, cycle="monthly", price="9.99", setup_fee="5.00")
    PlanPriceFactory(plan=plan, cycle="annual", price="99.00")
    return plan


def test_a_customer_orders_pays_with_the_demo_gateway_and_sees_the_service_turn_active(
    browser_page,
    live_worker,
    shop,
    customer_factory,
    settings,
):
    from playwright.sync_api import expect

    settings.BILLING_DEMO_GATEWAY = True
    customer = customer_factory("frank")
    page = browser_page
    log_in(page, "frank")

    # The storefront at / and the plan page.
    page.goto("/")
    plan_card = page.locator(f"#plans [data-plan={shop.slug}]")
    expect(plan_card).to_contain_text("9.99 EUR monthly")
    plan_card.get_by_role("link", name="Order").click()
    page.wait_for_url(f"**/plans/{shop.slug}/")
    expect(page.locator("#plan [data-field=protocols]")).to_contain_text("WireGuard")

    # Annually, added to the cart.
    page.get_by_label("Annually").check()
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/cart/")
    expect(page.locator(f"#cart tr[data-plan={shop.slug}]")).to_contain_text("Annually")
    expect(page.locator("#cart .cart__total")).to_contain_text("99.00 EUR")

    # Checkout: the terms must be accepted.
    page.get_by_role("link", name="Check out").click()
    page.wait_for_url("**/checkout/")
    page.get_by_role("button", name="Place the order").click()
    expect(page.get_by_role("alert")).to_contain_text("Please accept the terms of service")
    assert not Order.objects.exists()
    terms = page.get_by_label("I accept the terms of service.")
    box, label = terms.bounding_box(), page.locator("label[for=id_accept_terms]").bounding_box()
    assert box["x"] + box["width"] <= label["x"], "the box comes before its label"
    assert box["y"] < label["y"] + label["height"], "on the label's line"
    assert label["y"] < box["y"] + box["height"], "on the label's line"
    terms.check()
    page.get_by_role("button", name="Place the order").click()
    page.wait_for_url(re.compile(r"/billing/invoices/\d+/$"))
    invoice = Invoice.objects.get(customer=customer)
    assert page.url.endswith(f"/billing/invoices/{invoice.pk}/")

    # Paid with the demo gateway on the invoice page.
    page.locator("#pay [data-gateway=demo] button").click()
    expect(page.locator(".messages")).to_contain_text("Paid with the demo gateway.")
    expect(page.locator("#pay")).to_have_count(0)
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert invoice.number

    # My services: the new service, active once the worker has set it up.
    page.get_by_role("navigation", name="Account").get_by_role("link", name="My services").click()
    page.wait_for_url("**/services/")
    service = Service.objects.get(customer=customer)
    row = page.locator("table tbody tr").filter(has_text="VPN 100")
    expect(row).to_have_count(1)
    status = row.locator("[data-label=Status] .pill")
    deadline = time.monotonic() + SETUP_TIMEOUT_S
    while status.inner_text() != "Active":  # the list does not update itself: reload it
        if time.monotonic() > deadline:
            service.refresh_from_db()
            pytest.fail(f"My services still says {status.inner_text()}: {service.last_error}")
        page.wait_for_timeout(500)
        page.reload()
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE
    expect(row.locator("[data-label=Name]")).to_have_text(service.remote_name)

    # The paid invoice, from the header.
    page.get_by_role("navigation", name="Account").get_by_role("link", name="My invoices").click()
    page.wait_for_url("**/billing/invoices/")
    expect(page.locator(f"#invoices tr[data-invoice='{invoice.pk}']")).to_contain_text(
        re.compile(rf"{invoice.number}.*99\.00 EUR.*Paid", re.DOTALL)
    )
    assert page.js_errors == []

    # And welcomed by email (sent by the worker once the service was active).
    welcome = wait_for_email(kind="welcome", object_id=str(service.pk))
    assert (welcome.status, welcome.to) == ("sent", customer.user.email)
    wait_until_no_email_is_in_flight()

"""End to end with a real Celery worker and the live simulator: order in the shop → pay by card
(the Checkout Session made through the SDK against a fake Stripe) → Stripe's signed webhook, as
Stripe would send it, delivered twice → one service, active, its client on the panel."""

import uuid
from decimal import Decimal

import pytest
import responses
from django.test import Client

from portal.billing.models import Invoice, InvoiceStatus, Payment
from provisioning.models import Service, ServiceStatus
from tests.billing import stripe_fake
from tests.billing.stripe_fake import FakeStripe, event, post_event
from tests.factories import PlanFactory, PlanPriceFactory
from tests.provisioning import conftest as provisioning_fixtures
from tests.provisioning.conftest import settled, wait_for_service

# Fixtures from elsewhere, bound here so pytest finds them for this module's tests.
stripe_keys = stripe_fake.stripe_keys
live_worker = provisioning_fixtures.live_worker
panel = provisioning_fixtures.panel

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_order_paid_through_a_signed_stripe_webhook_becomes_active_on_the_panel(
    live_worker, simulator, panel, customer, server_for, product_for, stripe_keys
):
    server = server_for(simulator)
    product = product_for((server, "office"), name="VPN 100", download_mbps=100, upload_mbps=50)
    plan = PlanFactory(product=product, slug="vpn-100")
    PlanPriceFactory(plan=plan, cycle="monthly", price=Decimal("9.99"), setup_fee=Decimal("5.00"))
    browser = Client()
    browser.force_login(customer.user)
    browser.post("/plans/vpn-100/", {"cycle": "monthly", "quantity": 1})
    browser.post("/checkout/", {"checkout_token": uuid.uuid4(), "accept_terms": "on"})
    invoice = Invoice.objects.get(customer=customer)

    with responses.RequestsMock(
        assert_all_requests_are_fired=False, passthru_prefixes=(simulator.url,)
    ) as mock:
        stripe = FakeStripe(mock)
        pay = browser.post(f"/billing/invoices/{invoice.pk}/pay/stripe/")
    assert pay["Location"] == stripe.only_session["url"]
    assert stripe.only_session["amount_total"] == 1499
    completed = event("checkout.session.completed", stripe.pay(stripe.only_session["id"]))

    answers = [post_event(Client(), completed).status_code for _ in range(2)]

    assert answers == [200, 200]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == (InvoiceStatus.PAID, Decimal("14.99"))
    [service] = Service.objects.filter(customer=customer)
    service = wait_for_service(service, settled)
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert panel.get_client(service.remote_name).name == service.remote_name
    assert Payment.objects.filter(invoice=invoice).count() == 1

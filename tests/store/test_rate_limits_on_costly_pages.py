"""The customer requests that cost the portal something are rate limited per customer: checkout
(asks every plan's panels afresh, makes an order and an invoice), adding funds (makes an
invoice) and an invoice's PDF (rendered afresh). Past the limit: 429 with Retry-After, the
reason on the page, nothing made and no panel asked; other customers are not held back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from portal.billing import views as billing_views
from portal.billing.models import Invoice
from portal.billing.services import LineSpec, invoice_create
from portal.store import views as store_views
from portal.store.cart import SESSION_KEY as CART
from portal.store.models import Order
from provisioning.models import ModuleLogEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


@pytest.fixture(autouse=True)
def at_the_start_of_a_window():
    """The windows are aligned to the clock: start each test on an hour, so its few requests
    never straddle two windows (a PDF test failed so, once, on a slow CI machine)."""
    with time_machine.travel(datetime(2027, 1, 4, 9, 0, tzinfo=UTC), tick=True):
        yield


def browser_of(customer, plan=None) -> Client:
    client = Client()
    client.force_login(customer.user)
    if plan is not None:
        session = client.session
        session[CART] = [[plan.pk, "monthly", 1]]
        session.save()
    return client


def check_out(client: Client, **fields) -> object:
    return client.post("/checkout/", {"checkout_token": uuid.uuid4(), **fields})


def test_checkout_past_the_limit_is_429_and_asks_no_panel(
    shop_plan, customer, other_customer, monkeypatch
):
    monkeypatch.setattr(store_views, "CHECKOUT_RATE_LIMIT", 2)
    browser = browser_of(customer, shop_plan)
    first_two = [check_out(browser).status_code for _ in range(2)]  # terms not accepted
    panel_calls = ModuleLogEntry.objects.count()

    response = check_out(browser, accept_terms="on")

    assert first_two == [200, 200]
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= store_views.CHECKOUT_RATE_WINDOW
    assert "no-store" in response["Cache-Control"]
    assert store_views.TOO_MANY_CHECKOUTS in response.content.decode()
    assert not Order.objects.exists()
    assert ModuleLogEntry.objects.count() == panel_calls
    other = check_out(browser_of(other_customer, shop_plan), accept_terms="on")
    assert other.status_code == 302
    assert Order.objects.get().customer == other_customer


def test_adding_funds_past_the_limit_is_429_and_makes_no_invoice(
    customer, other_customer, monkeypatch
):
    monkeypatch.setattr(billing_views, "ADD_FUNDS_RATE_LIMIT", 2)
    browser = browser_of(customer)
    first_two = [browser.post("/billing/credit/", {"amount": "25"}).status_code for _ in range(2)]

    response = browser.post("/billing/credit/", {"amount": "25"})

    assert first_two == [302, 302]
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= billing_views.ADD_FUNDS_RATE_WINDOW
    assert "Please pay one of the invoices already made" in response.content.decode()
    assert Invoice.objects.filter(customer=customer).count() == 2
    assert browser_of(other_customer).post("/billing/credit/", {"amount": "25"}).status_code == 302


def test_an_invoice_pdf_past_the_limit_is_429(customer, other_customer, monkeypatch):
    monkeypatch.setattr(billing_views, "PDF_RATE_LIMIT", 2)
    line = LineSpec(description="VPN 100", unit_price=Decimal("9.99"))
    invoice, others = (
        invoice_create(customer=owner, lines=[line], actor=None)
        for owner in (customer, other_customer)
    )
    browser = browser_of(customer)
    url = f"/billing/invoices/{invoice.pk}/pdf/"
    first_two = [browser.get(url)["Content-Type"] for _ in range(2)]

    response = browser.get(url)

    assert first_two == ["application/pdf", "application/pdf"]
    assert response.status_code == 429
    assert response.content.decode() == billing_views.TOO_MANY_PDFS
    assert 0 < int(response["Retry-After"]) <= billing_views.PDF_RATE_WINDOW
    other = browser_of(other_customer).get(f"/billing/invoices/{others.pk}/pdf/")
    assert other["Content-Type"] == "application/pdf"

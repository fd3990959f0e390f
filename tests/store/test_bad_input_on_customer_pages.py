"""Whatever a browser sends to the shop and the billing pages — words for numbers, NaN, huge or
negative amounts, unknown plans, cycles and payment methods, a forged checkout token — is
answered with the form's error or a 404, never a traceback, and changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from portal.billing.services import LineSpec, invoice_create
from portal.core.models import Branding
from portal.store.cart import SESSION_KEY as CART
from tests.snapshots import changed_tables, database_snapshot, without_panel_reads

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]

HUGE = "9" * 5000  # past Python's int() digit limit: a ValueError, not an OverflowError


@pytest.fixture
def browser(shop_plan, customer) -> Client:
    """The owner, signed in, with the plan in the cart (and the shop's branding row made, as
    the first page shown makes it)."""
    Branding.current()
    client = Client(raise_request_exception=False)
    client.force_login(customer.user)
    session = client.session
    session[CART] = [[shop_plan.pk, "monthly", 1]]
    session.save()
    return client


@pytest.fixture
def invoice(customer, shop_plan):
    line = LineSpec(description="VPN 100", unit_price=Decimal("9.99"))
    return invoice_create(customer=customer, lines=[line], actor=None)


FORM_CASES = {
    "add funds: a word": ("/billing/credit/", {"amount": "ten"}, "Enter a number."),
    "add funds: NaN": ("/billing/credit/", {"amount": "NaN"}, "Enter a number."),
    "add funds: infinity": ("/billing/credit/", {"amount": "-Infinity"}, "Enter a number."),
    "add funds: an exponent past every limit": (
        "/billing/credit/",
        {"amount": "1e999999"},
        "Ensure that there are no more than",
    ),
    "add funds: negative": ("/billing/credit/", {"amount": "-25"}, "Add between"),
    "add funds: a comma": ("/billing/credit/", {"amount": "25,00"}, "Enter a number."),
    "add funds: empty": ("/billing/credit/", {"amount": ""}, "This field is required."),
    "add to cart: a word for the quantity": (
        "/plans/vpn-100/",
        {"cycle": "monthly", "quantity": "two"},
        "Enter a whole number.",
    ),
    "add to cart: a huge quantity": (
        "/plans/vpn-100/",
        {"cycle": "monthly", "quantity": HUGE},
        "Enter a whole number.",
    ),
    "add to cart: a negative quantity": (
        "/plans/vpn-100/",
        {"cycle": "monthly", "quantity": "-1"},
        "greater than or equal to 1",
    ),
    "add to cart: a cycle the plan is not sold in": (
        "/plans/vpn-100/",
        {"cycle": "quarterly", "quantity": "1"},
        "Select a valid choice.",
    ),
    "checkout: a forged token": (
        "/checkout/",
        {"checkout_token": "'; DROP TABLE", "accept_terms": "on"},
        "This checkout page is out of date: please open it again.",
    ),
    "checkout: an enormous coupon code": (
        "/checkout/",
        {
            "checkout_token": "8f1e0c2a-3a53-4b8e-9d0c-0d1f4f4f1b11",
            "accept_terms": "on",
            "coupon": "X" * 5000,
        },
        "Ensure this value has at most 40 characters",
    ),
    "checkout: a coupon with a NUL": (
        "/checkout/",
        {
            "checkout_token": "8f1e0c2a-3a53-4b8e-9d0c-0d1f4f4f1b11",
            "accept_terms": "on",
            "coupon": "NOPE\x00",
        },
        "Null characters are not allowed.",
    ),
}


@pytest.mark.parametrize("case", sorted(FORM_CASES))
def test_a_bad_form_is_answered_with_its_error_and_changes_nothing(case, browser):
    url, data, error = FORM_CASES[case]
    before = database_snapshot()

    response = browser.post(url, data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert changed_tables(*map(without_panel_reads, (before, database_snapshot()))) == []
    assert browser.session[CART] == [[browser.session[CART][0][0], "monthly", 1]]


@pytest.mark.parametrize(
    "data",
    [{}, {"plan": "one", "cycle": "monthly"}, {"plan": HUGE, "cycle": "monthly"}, {"plan": "-1"}],
)
def test_removing_nonsense_from_the_cart_leaves_it_as_it_was(data, browser):
    cart = browser.session[CART]

    response = browser.post("/cart/remove/", data)

    assert (response.status_code, response["Location"]) == (302, "/cart/")
    assert browser.session[CART] == cart


@pytest.mark.parametrize("gateway", ["paypal", "stripe", "credit", "DEMO", "bank-transfer"])
def test_paying_with_a_method_not_offered_is_404_and_pays_nothing(gateway, browser, invoice):
    response = browser.post(f"/billing/invoices/{invoice.pk}/pay/{gateway}/")

    assert response.status_code == 404
    invoice.refresh_from_db()
    assert (invoice.status, invoice.payments.count()) == ("unpaid", 0)


@pytest.mark.parametrize(
    "url",
    [
        "/plans/no-such-plan/",
        "/plans/%00/",
        "/billing/invoices/0/",
        f"/billing/invoices/{HUGE}/",
        f"/billing/invoices/{2**64}/pdf/",
        "/billing/invoices/-1/",
    ],
)
def test_an_unknown_plan_or_invoice_is_404(url, browser):
    assert browser.get(url).status_code == 404

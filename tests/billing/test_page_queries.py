"""The customer's billing pages make a fixed number of queries, however many invoices, lines or
credit entries there are."""

from decimal import Decimal

import pytest

from portal.billing.models import CreditEntry
from portal.billing.services import LineSpec, invoice_create
from tests.queries import page_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


def invoice(customer, lines: int = 1):
    specs = [LineSpec(description=f"Line {n}", unit_price=Decimal("1.00")) for n in range(lines)]
    return invoice_create(customer=customer, lines=specs, actor=None)


def test_my_invoices(signed_in, customer):
    for _ in range(2):
        invoice(customer)
    two = page_queries(signed_in, "/billing/invoices/")
    for _ in range(8):
        invoice(customer)

    assert page_queries(signed_in, "/billing/invoices/") == two == 3  # session, user, invoices


def test_an_invoice(signed_in, customer):
    short, long = invoice(customer, lines=2), invoice(customer, lines=20)

    assert page_queries(signed_in, f"/billing/invoices/{short.pk}/") == page_queries(
        signed_in, f"/billing/invoices/{long.pk}/"
    )


def test_my_credit(signed_in, customer):
    def add_entries(count: int) -> None:
        for _ in range(count):
            CreditEntry.objects.create(customer=customer, amount=Decimal("1.00"), reason="gift")

    add_entries(2)
    two = page_queries(signed_in, "/billing/credit/")
    add_entries(8)

    assert page_queries(signed_in, "/billing/credit/") == two

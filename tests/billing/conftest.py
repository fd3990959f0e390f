"""Billing's fixtures: an unpaid monthly VPN 100 invoice of the cast's customer."""

from decimal import Decimal

import pytest

from portal.billing.services import LineSpec, invoice_create


@pytest.fixture
def invoice(customer, product):
    line = LineSpec(
        description="VPN 100 (monthly)",
        unit_price=Decimal("9.99"),
        product=product,
        cycle="monthly",
        recurring_price=Decimal("9.99"),
    )
    return invoice_create(customer=customer, lines=[line], actor=None)

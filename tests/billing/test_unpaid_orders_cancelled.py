"""An order nothing was paid on is cancelled BILLING_CANCEL_UNPAID_ORDER_AFTER_DAYS after its
due date (so its coupon use comes back); part paid, or an invoice ordering nothing, is left. An
abandoned "Add funds" invoice is never chased, and cancelled like an order."""

from decimal import Decimal

import pytest

from portal.billing.models import InvoiceStatus
from portal.billing.services import LineSpec, invoice_create, payment_record
from portal.billing.services.dunning import overdue_reminders_send, unpaid_orders_cancel
from tests.billing.helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


@pytest.fixture
def issued(customer, product, settings):
    """Invoices issued on 1 Mar 2027, due on 8 Mar: an order, a part-paid order, a top-up."""
    settings.BILLING_INVOICE_DUE_DAYS = 7
    settings.BILLING_CANCEL_UNPAID_ORDER_AFTER_DAYS = 14
    order = LineSpec(
        description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=product,
        cycle="monthly",
    )  # fmt: skip
    with at("2027-03-01"):
        unpaid = invoice_create(customer=customer, lines=[order], actor=None)
        part_paid = invoice_create(customer=customer, lines=[order], actor=None)
        payment_record(
            invoice=part_paid, amount=Decimal("1.00"), gateway="bank_transfer",
            reference="part", actor=None,
        )  # fmt: skip
        other = invoice_create(
            customer=customer, lines=[LineSpec(description="Consulting", unit_price=Decimal("50"))],
            actor=None,
        )  # fmt: skip
    return unpaid, part_paid, other


def test_only_the_unpaid_order_is_cancelled_two_weeks_after_its_due_date(issued):
    with at("2027-03-21"):
        assert unpaid_orders_cancel() == 0  # 13 days after the due date
    with at("2027-03-22"):
        assert unpaid_orders_cancel() == 1
        assert unpaid_orders_cancel() == 0

    for invoice in issued:
        invoice.refresh_from_db()
    assert [invoice.status for invoice in issued] == [
        InvoiceStatus.CANCELLED,
        InvoiceStatus.UNPAID,
        InvoiceStatus.UNPAID,
    ]


def test_an_abandoned_add_funds_invoice_is_not_reminded_and_is_cancelled_like_an_order(
    customer, settings
):
    settings.BILLING_INVOICE_DUE_DAYS = 7
    settings.BILLING_CANCEL_UNPAID_ORDER_AFTER_DAYS = 14
    settings.BILLING_OVERDUE_REMINDER_DAYS = [1, 3, 7]
    top_up = LineSpec(description="Account credit", unit_price=Decimal("20"), adds_credit=True)
    with at("2027-03-01"):
        invoice = invoice_create(customer=customer, lines=[top_up], actor=None)
    for day in ("2027-03-09", "2027-03-11", "2027-03-15"):
        with at(day):
            assert overdue_reminders_send() == 0
    with at("2027-03-22"):
        assert unpaid_orders_cancel() == 1

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CANCELLED

"""Invoices are proforma until paid; paying gives the final number, copies the parties and orders
the services through provisioning's lifecycle API; every payment is recorded once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portal.billing.cycles import BillingCycle
from portal.billing.models import (
    BillingEvent,
    CreditEntry,
    Gateway,
    InvoiceKind,
    InvoiceStatus,
    Subscription,
)
from portal.billing.services import (
    LineSpec,
    credit_apply,
    credit_balance,
    credit_note_issue,
    invoice_cancel,
    invoice_create,
    payment_record,
)
from portal.billing.services.invoices import BillingRefused
from portal.billing.services.payments import invoice_settle_if_free
from portal.core.models import Branding
from provisioning.models import ServiceAction, ServiceStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]
YEAR = timezone.now().year


@pytest.fixture
def plan_line(product):
    return LineSpec(
        description="VPN 100, monthly",
        unit_price=Decimal("9.99"),
        product=product,
        cycle=BillingCycle.MONTHLY,
        recurring_price=Decimal("9.99"),
    )


def pay(invoice, amount=None, reference="bank-1", gateway=Gateway.BANK_TRANSFER):
    return payment_record(
        invoice=invoice,
        amount=invoice.total if amount is None else Decimal(amount),
        gateway=gateway,
        reference=reference,
        actor=None,
    )


def test_a_new_invoice_is_a_proforma_with_exact_totals(customer, plan_line):
    invoice = invoice_create(customer=customer, lines=[plan_line, plan_line], actor=None)

    assert (invoice.status, invoice.number, invoice.is_proforma) == ("unpaid", None, True)
    assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (
        Decimal("19.98"),
        Decimal("0.00"),
        Decimal("19.98"),
    )
    assert [line.amount for line in invoice.lines.all()] == [Decimal("9.99")] * 2
    assert invoice.due_at > invoice.issued_at
    assert BillingEvent.objects.get(invoice=invoice).action == "invoice_issued"


def test_the_same_source_key_is_one_invoice(customer, plan_line):
    first = invoice_create(customer=customer, lines=[plan_line], actor=None, source_key="order:1")
    again = invoice_create(customer=customer, lines=[plan_line], actor=None, source_key="order:1")

    assert again.pk == first.pk


def test_paying_part_keeps_it_unpaid_and_paying_the_rest_gives_the_number(customer, plan_line):
    invoice = invoice_create(customer=customer, lines=[plan_line], actor=None)

    pay(invoice, "4.00", reference="bank-a")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.number) == (
        "unpaid",
        Decimal("4.00"),
        None,
    )

    pay(invoice, "5.99", reference="bank-b")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.number == f"INV-{YEAR}-000001"
    assert invoice.buyer["email"] == customer.user.email
    assert invoice.seller["name"] == Branding.current().shop_name


def test_paying_orders_each_service_once_with_its_billing_record(customer, plan_line):
    line = LineSpec(**{**plan_line.__dict__, "quantity": 2})
    invoice = invoice_create(customer=customer, lines=[line], actor=None)

    pay(invoice)
    pay(invoice)  # the same payment reported again

    services = list(customer.services.order_by("pk"))
    assert len(services) == 2
    for service in services:
        assert (service.status, service.pending_action) == (
            ServiceStatus.PENDING,
            ServiceAction.CREATE,
        )
        subscription = Subscription.objects.get(service=service)
        assert (subscription.cycle, subscription.recurring_price) == ("monthly", Decimal("9.99"))
        assert subscription.next_due_date > timezone.localdate()
    assert invoice.payments.count() == 1


def test_overpaying_adds_the_rest_to_the_credit_balance(customer, plan_line):
    invoice = invoice_create(customer=customer, lines=[plan_line], actor=None)

    pay(invoice, "15.00")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("paid", Decimal("9.99"))
    assert credit_balance(customer) == Decimal("5.01")


def test_money_received_for_a_cancelled_invoice_becomes_credit(customer, plan_line):
    invoice = invoice_create(customer=customer, lines=[plan_line], actor=None)
    invoice_cancel(invoice=invoice, actor=None, reason="ordered by mistake")

    pay(invoice)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("cancelled", None)
    assert credit_balance(customer) == Decimal("9.99")
    assert not customer.services.exists()


def test_a_paid_invoice_cannot_be_cancelled_only_credited(customer, plan_line):
    invoice = invoice_create(customer=customer, lines=[plan_line], actor=None)
    pay(invoice)
    invoice.refresh_from_db()

    with pytest.raises(BillingRefused, match="credit note"):
        invoice_cancel(invoice=invoice, actor=None, reason="no")
    note = credit_note_issue(
        invoice=invoice, amount=Decimal("4.99"), reason="goodwill", actor=None,
        to_credit_balance=True,
    )  # fmt: skip

    assert (note.kind, note.status) == (InvoiceKind.CREDIT_NOTE, InvoiceStatus.ISSUED)
    assert note.number == f"CN-{YEAR}-000001"
    assert credit_balance(customer) == Decimal("4.99")
    with pytest.raises(BillingRefused, match="left to credit"):
        credit_note_issue(
            invoice=invoice, amount=Decimal("5.01"), reason="more", actor=None,
            to_credit_balance=False,
        )  # fmt: skip


def test_credit_pays_part_of_an_invoice_and_the_rest_is_paid_by_card(customer, plan_line):
    CreditEntry.objects.create(customer=customer, amount=Decimal("3.00"), reason="gift")
    invoice = invoice_create(customer=customer, lines=[plan_line], actor=None)

    credit_apply(invoice=invoice, actor=None)
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.status) == (Decimal("3.00"), "unpaid")
    assert credit_balance(customer) == 0
    assert credit_apply(invoice=invoice, actor=None) is None  # nothing left to use

    pay(invoice, "6.99", gateway=Gateway.STRIPE, reference="pi_123")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_adding_funds_credits_the_balance_once_paid_untaxed(customer):
    invoice = invoice_create(
        customer=customer,
        lines=[LineSpec(description="Account credit", unit_price=Decimal("20"), adds_credit=True)],
        actor=None,
    )
    assert (invoice.tax_amount, invoice.tax_label) == (0, "Prepayment, no tax")

    pay(invoice)

    assert credit_balance(customer) == Decimal("20.00")


def test_a_free_invoice_is_paid_as_it_is(customer, plan_line):
    free = LineSpec(**{**plan_line.__dict__, "unit_price": Decimal(0)})
    invoice = invoice_create(customer=customer, lines=[free], actor=None)

    invoice = invoice_settle_if_free(invoice=invoice, actor=None)

    assert invoice.status == InvoiceStatus.PAID
    assert invoice.number.startswith("INV-")
    assert customer.services.count() == 1


def test_numbers_follow_each_other_in_the_order_invoices_are_paid(customer, plan_line):
    first = invoice_create(customer=customer, lines=[plan_line], actor=None)
    second = invoice_create(customer=customer, lines=[plan_line], actor=None)

    pay(second, reference="b2")
    pay(first, reference="b1")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.number, first.number) == (f"INV-{YEAR}-000001", f"INV-{YEAR}-000002")


def test_one_gateway_reference_cannot_pay_two_invoices(customer, plan_line):
    first = invoice_create(customer=customer, lines=[plan_line], actor=None)
    second = invoice_create(customer=customer, lines=[plan_line], actor=None)
    pay(first, reference="same")

    with pytest.raises(BillingRefused, match="for another invoice"):
        pay(second, reference="same")


def test_due_dates_come_from_the_setting(customer, plan_line, settings):
    settings.BILLING_INVOICE_DUE_DAYS = 14

    invoice = invoice_create(customer=customer, lines=[plan_line], actor=None)

    assert invoice.due_at - invoice.issued_at == timedelta(days=14)

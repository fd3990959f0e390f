"""An invoice's tax is that of the buyer it names: a buyer without a country is taxed as a sale
at home; a change of tax details re-taxes the proformas nothing has been paid on; the buyer is
copied at the first payment, so a change after it does not contradict the invoice."""

from decimal import Decimal

import pytest

from portal.accounts.services import customer_billing_details_update
from portal.billing.models import BillingEvent, Gateway, InvoiceStatus, TaxRate
from portal.billing.services import LineSpec, invoice_create, payment_record
from portal.core.models import Branding

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]
TEN = LineSpec(description="VPN 100, monthly", unit_price=Decimal("10.00"))


@pytest.fixture(autouse=True)
def german_seller():
    Branding.objects.update_or_create(pk=1, defaults={"country": "DE", "vat_id": "DE136695976"})
    TaxRate.objects.create(country="DE", name="VAT", rate=Decimal("19"))
    TaxRate.objects.create(country="AT", name="USt", rate=Decimal("20"))


def pay(invoice, amount, reference):
    payment_record(
        invoice=invoice,
        amount=Decimal(amount),
        gateway=Gateway.BANK_TRANSFER,
        reference=reference,
        actor=None,
    )
    invoice.refresh_from_db()
    return invoice


def test_a_buyer_without_a_country_is_taxed_as_a_sale_at_home(customer):
    invoice = invoice_create(customer=customer, lines=[TEN], actor=None)

    assert (invoice.tax_label, invoice.tax_amount, invoice.total) == (
        "VAT 19%",
        Decimal("1.90"),
        Decimal("11.90"),
    )


def test_a_new_country_before_paying_re_taxes_the_proforma_and_the_paid_invoice_agrees(customer):
    invoice = invoice_create(customer=customer, lines=[TEN], actor=None)

    customer_billing_details_update(customer=customer, country="AT", billing_name="Carol")
    invoice.refresh_from_db()
    assert (invoice.tax_label, invoice.total) == ("USt 20%", Decimal("12.00"))
    retaxed = BillingEvent.objects.get(invoice=invoice, action="invoice_retaxed")
    assert Decimal(retaxed.data["total_before"]) == Decimal("11.90")

    paid = pay(invoice, "12.00", "SEPA-1")
    assert paid.status == InvoiceStatus.PAID
    assert (paid.buyer["country"], paid.tax_label) == ("AT", "USt 20%")


def test_staff_making_a_customer_tax_exempt_re_taxes_the_unpaid_proforma(customer):
    invoice = invoice_create(customer=customer, lines=[TEN], actor=None)

    customer.tax_exempt = True
    customer.save()

    invoice.refresh_from_db()
    assert (invoice.tax_label, invoice.tax_amount, invoice.total) == (
        "Tax exempt",
        Decimal("0.00"),
        Decimal("10.00"),
    )


def test_after_a_first_payment_the_invoice_keeps_the_buyer_it_was_taxed_for(customer):
    customer_billing_details_update(customer=customer, country="AT")
    invoice = invoice_create(customer=customer, lines=[TEN], actor=None)
    pay(invoice, "5.00", "SEPA-1")

    customer_billing_details_update(customer=customer, country="DE")
    paid = pay(invoice, "7.00", "SEPA-2")

    assert paid.status == InvoiceStatus.PAID
    assert (paid.buyer["country"], paid.tax_label, paid.total) == (
        "AT",
        "USt 20%",
        Decimal("12.00"),
    )
    assert not BillingEvent.objects.filter(action="invoice_retaxed").exists()


def test_a_paid_invoice_is_never_re_taxed(customer):
    invoice = pay(invoice_create(customer=customer, lines=[TEN], actor=None), "11.90", "SEPA-1")

    customer_billing_details_update(customer=customer, country="AT")

    invoice.refresh_from_db()
    assert (invoice.buyer["country"], invoice.tax_label, invoice.total) == (
        "",
        "VAT 19%",
        Decimal("11.90"),
    )

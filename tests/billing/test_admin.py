"""Billing in the admin: issue an invoice by hand, record a bank transfer (once per reference),
cancel, credit note; every button a confirmation page whose POST needs the CSRF token."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from portal.billing.models import Invoice, InvoiceStatus, Payment
from portal.billing.services import LineSpec, invoice_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


@pytest.fixture
def invoice(customer, product):
    line = LineSpec(
        description="VPN 100", unit_price=Decimal("9.99"), product=product, cycle="monthly"
    )
    return invoice_create(customer=customer, lines=[line], actor=None)


def url(name, invoice):
    return reverse(f"admin:billing_invoice_{name}", args=[invoice.pk])


def test_an_invoice_issued_by_hand_is_a_proforma_for_the_customer(admin_client, customer, product):
    response = admin_client.post(
        reverse("admin:billing_invoice_add"),
        {
            "customer": customer.pk,
            "notes": "Agreed by phone",
            "lines-TOTAL_FORMS": "3",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-description": "VPN 100, one year",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "99.00",
            "lines-0-product": product.pk,
            "lines-0-cycle": "annual",
            "lines-1-quantity": "1",  # the empty lines as a browser sends them
            "lines-2-quantity": "1",
        },
    )

    assert response.status_code == 302, response.content.decode()[-3000:]
    invoice = Invoice.objects.get()
    assert response["Location"] == url("change", invoice)
    assert (invoice.customer, invoice.total, invoice.status) == (
        customer,
        Decimal("99.00"),
        "unpaid",
    )
    assert invoice.lines.get().cycle == "annual"


def test_recording_a_transfer_pays_the_invoice_once_per_reference(admin_client, invoice):
    page = admin_client.get(url("pay", invoice)).content.decode()
    assert "Record a bank transfer" in page

    for _ in range(2):  # an admin's double submit
        admin_client.post(url("pay", invoice), {"amount": "9.99", "reference": "SEPA-0042"})

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert Payment.objects.get().reference == "SEPA-0042"
    assert invoice.customer.services.count() == 1


def test_the_pre_filled_amount_is_the_balance_in_cents_and_is_accepted_as_shown(
    admin_client, invoice
):
    page = admin_client.get(url("pay", invoice)).content.decode()
    assert 'value="9.99"' in page  # the column holds 9.990
    assert "9.990" not in page

    admin_client.post(url("pay", invoice), {"amount": "9.99", "reference": "SEPA-7"})
    too_fine = admin_client.post(url("pay", invoice), {"amount": "0.001", "reference": "SEPA-8"})

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert "no more than 2 decimal places" in too_fine.content.decode()
    listing = admin_client.get(reverse("admin:billing_invoice_changelist")).content.decode()
    change = admin_client.get(url("change", invoice)).content.decode()
    assert "9.99 EUR" in listing
    assert "9.99 EUR" in change
    assert "9.990" not in listing + change


def test_cancel_and_credit_note_follow_the_invoice_state(admin_client, invoice):
    change = admin_client.get(url("change", invoice)).content.decode()
    assert "Record a payment" in change
    assert "Credit note" not in change

    admin_client.post(url("pay", invoice), {"amount": "9.99", "reference": "SEPA-1"})
    refused = admin_client.post(url("cancel", invoice), {"reason": "late"}, follow=True)
    admin_client.post(
        url("credit_note", invoice),
        {"amount": "2.00", "reason": "outage", "to_credit_balance": "on"},
    )

    invoice.refresh_from_db()
    assert "Only an unpaid invoice" in refused.content.decode()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.credit_notes.get().subtotal == Decimal("2.00")


def test_paid_invoices_cannot_be_edited_or_deleted_in_the_admin(admin_client, invoice):
    admin_client.post(url("pay", invoice), {"amount": "9.99", "reference": "SEPA-9"})

    response = admin_client.post(url("change", invoice), {"total": "0"})
    delete = admin_client.post(url("delete", invoice), {"post": "yes"})

    invoice.refresh_from_db()
    assert response.status_code == 403
    assert delete.status_code == 403
    assert invoice.total == Decimal("9.99")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("pay", {"amount": "9.99", "reference": "X"}),
        ("cancel", {"reason": "x"}),
        ("credit_note", {"amount": "1", "reason": "x"}),
    ],
)
def test_every_invoice_button_needs_the_csrf_token(admin_user, invoice, name, data):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)

    assert strict.post(url(name, invoice), data).status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UNPAID

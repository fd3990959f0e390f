"""The billing emails: order confirmation, invoice issued (and an admin's resend), payment
received. Each is recorded (EmailRecord) once, about its object, and says what the customer needs:
what was bought, what is due and where to pay, what was received."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from portal.billing.models import Invoice
from portal.billing.services import (
    LineSpec,
    invoice_cancel,
    invoice_create,
    invoice_email_again,
    payment_record,
)
from portal.billing.services.invoices import BillingRefused
from portal.notifications.models import EmailRecord
from portal.notifications.payload import text_body, unpack
from portal.store.cart import CartItem
from portal.store.services import order_place
from tests.factories import PlanFactory, PlanPriceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]

QUEUED_BACKEND = "portal.notifications.backends.QueuedEmailBackend"


@pytest.fixture(autouse=True)
def recorded_email(settings) -> None:
    settings.EMAIL_BACKEND = QUEUED_BACKEND
    settings.PORTAL_BASE_URL = "https://shop.example.com"


@pytest.fixture
def invoice(customer, product) -> Invoice:
    line = LineSpec(
        description="VPN 100 (monthly)",
        unit_price=Decimal("9.99"),
        product=product,
        cycle="monthly",
    )
    return invoice_create(customer=customer, lines=[line], actor=None)


def emails(kind: str) -> list[EmailRecord]:
    return list(EmailRecord.objects.filter(kind=kind).order_by("pk"))


def test_an_order_is_confirmed_once_with_its_lines_and_where_to_pay(customer, product, monkeypatch):
    monkeypatch.setattr("portal.store.services.plan_room", lambda plan, *, count: count)
    plan = PlanFactory(product=product)
    price = PlanPriceFactory(plan=plan, cycle="monthly", price=Decimal("9.99"))
    token = uuid.uuid4()
    place = lambda: order_place(  # noqa: E731 - the same checkout, submitted twice
        customer=customer,
        items=[CartItem(plan=plan, price=price, quantity=2)],
        checkout_token=token,
        terms_accepted=True,
        actor=customer.user,
    )

    order = place()
    place()

    (record,) = emails("order_confirmation")
    assert record.to == customer.user.email
    assert (record.object_type, record.object_id) == ("store.order", str(order.pk))
    text = text_body(record.message)
    assert f"order #{order.pk}" in text
    assert "2 \N{MULTIPLICATION SIGN} VPN 100 (monthly): 19.98 EUR" in text
    assert f"https://shop.example.com/billing/invoices/{order.invoice.pk}/" in text


def test_a_payment_is_acknowledged_after_its_commit_once_per_payment(
    invoice, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        payment_record(
            invoice=invoice, amount=Decimal("5.00"), gateway="bank_transfer", reference="T1",
            actor=None,
        )  # fmt: skip
        assert not emails("payment_received")  # nothing before the payment commits
    assert callbacks
    with django_capture_on_commit_callbacks(execute=True):
        payment_record(
            invoice=invoice,
            amount=Decimal("5.00"),
            gateway="bank_transfer",
            reference="T1",
            actor=None,
        )  # fmt: skip  - the same transfer again: no payment, no second email
        payment_record(
            invoice=invoice, amount=Decimal("4.99"), gateway="bank_transfer", reference="T2",
            actor=None,
        )  # fmt: skip

    partial, full = emails("payment_received")
    assert "we received 5.00 EUR (Bank transfer)" in text_body(partial.message)
    assert "Still due on it: 4.99 EUR" in text_body(partial.message)
    invoice.refresh_from_db()
    full_text = text_body(full.message)
    assert f"paid in full; its number is {invoice.number}" in full_text
    assert "setting up your service now" in full_text
    assert full.to == customer.user.email


def test_no_email_for_a_customer_without_an_address(invoice, customer):
    customer.user.email = ""
    customer.user.save()

    with pytest.raises(BillingRefused, match="no email address"):
        invoice_email_again(invoice=invoice, actor=None)

    assert not EmailRecord.objects.exists()


def test_an_invoice_issued_by_hand_is_emailed_when_asked_and_again_by_resend(
    admin_client, customer, product
):
    response = admin_client.post(
        reverse("admin:billing_invoice_add"),
        {
            "customer": customer.pk,
            "email_customer": "on",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-description": "Consulting",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "50.00",
        },
    )
    assert response.status_code == 302
    invoice = Invoice.objects.get()
    (issued,) = emails("invoice_issued")
    message = unpack(issued.message)
    assert message.subject.startswith(f"Invoice {invoice}: 50.00 EUR due ")
    assert "1 \N{MULTIPLICATION SIGN} Consulting: 50.00 EUR" in message.body
    assert "View and pay" in message.alternatives[0][0]

    resend = reverse("admin:billing_invoice_resend", args=[invoice.pk])
    assert admin_client.get(resend).status_code == 200  # a confirmation page, nothing sent
    assert len(emails("invoice_issued")) == 1
    admin_client.post(resend)

    assert len(emails("invoice_issued")) == 2
    invoice_cancel(invoice=invoice, actor=None, reason="test")
    admin_client.post(resend)
    assert len(emails("invoice_issued")) == 2  # a cancelled invoice is not sent


def test_an_invoice_issued_by_hand_without_the_box_ticked_is_not_emailed(admin_client, customer):
    admin_client.post(
        reverse("admin:billing_invoice_add"),
        {
            "customer": customer.pk,
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-description": "Consulting",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "50.00",
        },
    )

    assert Invoice.objects.count() == 1
    assert not emails("invoice_issued")

"""The page Stripe sends the customer back to: it asks Stripe about the session itself, so a lost
webhook never leaves a paid invoice unpaid (reliability.md class 3), and nothing in its URL is
believed — ``?paid=1`` or another session's id marks nothing paid (class 4)."""

from decimal import Decimal

import pytest
from django.test import Client

from portal.billing.models import InvoiceStatus, Payment, StripeCheckout, StripeEvent
from portal.billing.services import LineSpec, invoice_create
from provisioning.models import Service
from tests.billing import stripe_fake
from tests.billing.stripe_fake import event, post_event

# The fake's fixtures, bound here so pytest finds them for this module's tests.
fake_stripe = stripe_fake.fake_stripe
stripe_keys = stripe_fake.stripe_keys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


def new_invoice(customer, product):
    line = LineSpec(
        description="VPN 100 (monthly)",
        unit_price=Decimal("9.99"),
        product=product,
        cycle="monthly",
        recurring_price=Decimal("9.99"),
    )
    return invoice_create(customer=customer, lines=[line], actor=None)


@pytest.fixture
def invoice(customer, product):
    return new_invoice(customer, product)


def open_checkout(client, invoice) -> StripeCheckout:
    client.post(f"/billing/invoices/{invoice.pk}/pay/stripe/")
    return StripeCheckout.objects.get(invoice=invoice)


def test_the_return_page_records_a_payment_stripe_confirms_when_no_webhook_came(
    signed_in, invoice, customer, fake_stripe
):
    checkout = open_checkout(signed_in, invoice)
    fake_stripe.pay(checkout.session_id)  # paid on Stripe's page; the webhook is lost

    response = signed_in.get(f"/billing/stripe/return/{checkout.pk}/")

    assert response["Location"] == f"/billing/invoices/{invoice.pk}/"
    assert [call.path for call in fake_stripe.calls if call.method == "GET"] == [
        f"/v1/checkout/sessions/{checkout.session_id}"
    ]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    payment = Payment.objects.get()
    assert (payment.reference, payment.data["source"]) == (checkout.session_id, "return page")
    assert Service.objects.filter(customer=customer).count() == 1
    assert "your payment is received" in signed_in.get(response["Location"]).content.decode()


def test_the_late_webhook_after_the_return_page_changes_nothing(
    signed_in, invoice, customer, fake_stripe
):
    checkout = open_checkout(signed_in, invoice)
    paid = fake_stripe.pay(checkout.session_id)
    signed_in.get(f"/billing/stripe/return/{checkout.pk}/")

    response = post_event(Client(), event("checkout.session.completed", paid))

    assert response.status_code == 200
    assert StripeEvent.objects.get().outcome == "paid already"
    assert Payment.objects.count() == 1
    assert Service.objects.filter(customer=customer).count() == 1


def test_paid_1_or_another_sessions_id_in_the_url_marks_nothing_paid(
    signed_in, customer, product, fake_stripe
):
    paid_invoice, unpaid_invoice = new_invoice(customer, product), new_invoice(customer, product)
    paid_checkout = open_checkout(signed_in, paid_invoice)
    fake_stripe.pay(paid_checkout.session_id)
    unpaid_checkout = open_checkout(signed_in, unpaid_invoice)

    response = signed_in.get(
        f"/billing/stripe/return/{unpaid_checkout.pk}/",
        {"paid": "1", "payment_status": "paid", "session_id": paid_checkout.session_id},
    )

    assert response.status_code == 200
    assert "has not confirmed your payment" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    unpaid_invoice.refresh_from_db()
    assert unpaid_invoice.status == InvoiceStatus.UNPAID
    assert not Payment.objects.filter(invoice=unpaid_invoice).exists()
    asked = [call.path for call in fake_stripe.calls if call.method == "GET"]
    assert asked == [f"/v1/checkout/sessions/{unpaid_checkout.session_id}"]


def test_stripe_unreachable_on_return_says_so_and_changes_nothing(signed_in, invoice, fake_stripe):
    checkout = open_checkout(signed_in, invoice)
    fake_stripe.pay(checkout.session_id)
    fake_stripe.errors = [(503, {"error": {"type": "api_error"}})] * 3

    response = signed_in.get(f"/billing/stripe/return/{checkout.pk}/")

    assert response.status_code == 200
    assert "could not confirm your payment with Stripe" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UNPAID

    assert signed_in.get(f"/billing/stripe/return/{checkout.pk}/").status_code == 302  # again
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_an_expired_session_on_return_says_nothing_was_charged(signed_in, invoice, fake_stripe):
    checkout = open_checkout(signed_in, invoice)
    fake_stripe.expire(checkout.session_id)

    response = signed_in.get(f"/billing/stripe/return/{checkout.pk}/")

    assert "nothing was charged" in response.content.decode()
    checkout.refresh_from_db()
    assert checkout.status == "expired"


def test_the_return_page_is_the_owners_only(
    client, signed_in, invoice, other_customer, fake_stripe
):
    checkout = open_checkout(signed_in, invoice)
    fake_stripe.pay(checkout.session_id)
    url = f"/billing/stripe/return/{checkout.pk}/"

    anonymous = Client().get(url)
    other = Client()
    other.force_login(other_customer.user)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert other.get(url).status_code == 404
    assert Client().post(url).status_code in (302, 405)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UNPAID
    assert [call.method for call in fake_stripe.calls] == ["POST"]

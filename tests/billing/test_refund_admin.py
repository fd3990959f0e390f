"""Refunds in the admin: a payment's Refund button gives money back to the customer's credit or,
for a card payment, through Stripe; the form's key makes a double submit one refund; more than
is left is refused with nothing changed; a support user cannot refund."""

import re
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from portal.accounts.roles import SUPPORT
from portal.billing.models import CreditEntry, Gateway, Payment, PaymentRefund
from portal.billing.services import LineSpec, credit_balance, invoice_create, payment_record
from tests.billing import stripe_fake
from tests.billing.stripe_fake import event, post_event
from tests.factories import StaffFactory

fake_stripe = stripe_fake.fake_stripe
stripe_keys = stripe_fake.stripe_keys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


@pytest.fixture
def invoice(customer, product):
    line = LineSpec(description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=product)
    return invoice_create(customer=customer, lines=[line], actor=None)


@pytest.fixture
def transfer(invoice) -> Payment:
    return payment_record(
        invoice=invoice, amount=Decimal("9.99"), gateway=Gateway.BANK_TRANSFER, reference="T-1",
        actor=None,
    )  # fmt: skip


def support_staff():
    user = StaffFactory(is_superuser=False)
    user.groups.add(Group.objects.get(name=SUPPORT))
    return user


def refund_url(payment: Payment) -> str:
    return reverse("admin:billing_payment_refund", args=[payment.pk])


def form_key(page: str) -> str:
    return re.search(r'name="key" value="([0-9a-f-]+)"', page)[1]


def test_a_bank_transfer_is_refunded_to_credit_once_per_form(admin_client, transfer, customer):
    change = admin_client.get(reverse("admin:billing_payment_change", args=[transfer.pk]))
    assert refund_url(transfer) in change.content.decode()
    page = admin_client.get(refund_url(transfer)).content.decode()
    assert 'value="stripe"' not in page  # a transfer goes back only to credit
    data = {"key": form_key(page), "amount": "4.00", "method": "credit", "reason": "outage"}

    first = admin_client.post(refund_url(transfer), data)
    admin_client.post(refund_url(transfer), data)  # the same form again

    assert first.status_code == 302
    (refund,) = PaymentRefund.objects.all()
    assert (refund.status, refund.amount, refund.method) == ("done", Decimal("4.00"), "credit")
    assert credit_balance(customer) == Decimal("4.00")


def test_more_than_is_left_is_refused_and_nothing_changes(admin_client, transfer):
    data = {"key": uuid.uuid4(), "amount": "10.00", "method": "credit", "reason": ""}

    response = admin_client.post(refund_url(transfer), data, follow=True)

    assert not PaymentRefund.objects.exists()
    assert not CreditEntry.objects.exists()
    assert "At most 9.99 EUR of this payment can be refunded." in response.content.decode()


def test_a_card_payment_is_refunded_through_stripe_with_the_forms_key(
    admin_client, client, customer, invoice, fake_stripe
):
    client.force_login(customer.user)
    client.post(f"/billing/invoices/{invoice.pk}/pay/stripe/")
    post_event(
        Client(),
        event("checkout.session.completed", fake_stripe.pay(fake_stripe.only_session["id"])),
    )
    payment = Payment.objects.get(gateway=Gateway.STRIPE)
    page = admin_client.get(refund_url(payment)).content.decode()
    data = {"key": form_key(page), "amount": "9.99", "method": "stripe", "reason": "asked"}

    admin_client.post(refund_url(payment), data)
    admin_client.post(refund_url(payment), data)

    (call,) = fake_stripe.posts("/v1/refunds")
    refund = PaymentRefund.objects.get()
    assert call.idempotency_key == refund.idempotency_key
    assert (refund.status, refund.method) == ("done", "stripe")
    payment.refresh_from_db()
    assert payment.refunded == Decimal("9.99")
    change = admin_client.get(reverse("admin:billing_payment_change", args=[payment.pk]))
    assert refund_url(payment) not in change.content.decode()  # nothing left to refund


def test_a_support_user_cannot_refund(transfer):
    support_client = Client()
    support_client.force_login(support_staff())
    page = support_client.get(refund_url(transfer))
    posted = support_client.post(
        refund_url(transfer), {"key": uuid.uuid4(), "amount": "1.00", "method": "credit"}
    )

    assert (page.status_code, posted.status_code) == (403, 403)
    assert not PaymentRefund.objects.exists()

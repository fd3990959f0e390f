"""Refunds: to the credit balance, or back to the card through Stripe with an idempotency key saved
before the first attempt; never more than was paid, and the same request twice is one refund."""

import re
import uuid
from decimal import Decimal

import pytest
from django.test import Client

from portal.billing.models import (
    BillingEvent,
    CreditEntry,
    Gateway,
    Payment,
    PaymentRefund,
)
from portal.billing.services import LineSpec, credit_balance, invoice_create, payment_record
from portal.billing.services.invoices import BillingRefused
from portal.billing.services.refunds import payment_refund, payment_refund_retry, refundable
from tests.billing import stripe_fake
from tests.billing.stripe_fake import event, post_event

# The fake's fixtures, bound here so pytest finds them for this module's tests.
fake_stripe = stripe_fake.fake_stripe
stripe_keys = stripe_fake.stripe_keys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


@pytest.fixture
def invoice(customer, product):
    line = LineSpec(description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=product)
    return invoice_create(customer=customer, lines=[line], actor=None)


@pytest.fixture
def card_payment(client, customer, invoice, fake_stripe) -> Payment:
    """The invoice paid by card through Stripe Checkout (its webhook received)."""
    client.force_login(customer.user)
    client.post(f"/billing/invoices/{invoice.pk}/pay/stripe/")
    paid = fake_stripe.pay(fake_stripe.only_session["id"])
    post_event(Client(), event("checkout.session.completed", paid))
    return Payment.objects.get(gateway=Gateway.STRIPE)


def refund(payment, amount, *, to_credit=False, key=None, actor=None):
    return payment_refund(
        payment=payment, amount=Decimal(amount), actor=actor, to_credit=to_credit,
        key=key or str(uuid.uuid4()), reason="customer asked",
    )  # fmt: skip


def test_a_refund_to_credit_adds_it_to_the_balance(card_payment, customer, staff, fake_stripe):
    done = refund(card_payment, "4.00", to_credit=True, actor=staff)

    card_payment.refresh_from_db()
    assert (done.status, done.method, card_payment.refunded) == ("done", "credit", Decimal("4.00"))
    assert credit_balance(customer) == Decimal("4.00")
    assert CreditEntry.objects.get().payment_id == card_payment.pk
    audit = BillingEvent.objects.get(action="payment_refunded")
    assert (audit.actor, audit.data["amount"], audit.data["method"]) == (staff, "4.00", "credit")
    assert not fake_stripe.posts("/v1/refunds")


def test_a_refund_through_stripe_carries_its_saved_key_and_counts_once(card_payment, fake_stripe):
    done = refund(card_payment, "5.00")

    [call] = fake_stripe.posts("/v1/refunds")
    assert call.idempotency_key == done.idempotency_key
    assert (call.params["payment_intent"], call.params["amount"]) == (
        card_payment.data["payment_intent"],
        "500",
    )
    assert call.params["metadata[refund_id]"] == str(done.pk)
    card_payment.refresh_from_db()
    assert (done.status, done.gateway_refund_id) == ("done", next(iter(fake_stripe.refunds)))
    assert card_payment.refunded == Decimal("5.00")
    assert refundable(card_payment) == Decimal("4.99")


def test_more_than_was_paid_is_never_refunded(card_payment, fake_stripe):
    with pytest.raises(BillingRefused, match=re.escape("At most 9.99 EUR")):
        refund(card_payment, "10.00")
    refund(card_payment, "6.00")
    with pytest.raises(BillingRefused, match=re.escape("At most 3.99 EUR")):
        refund(card_payment, "4.00", to_credit=True)
    refund(card_payment, "3.99", to_credit=True)
    with pytest.raises(BillingRefused, match=re.escape("At most 0.00 EUR")):
        refund(card_payment, "0.01")

    card_payment.refresh_from_db()
    assert card_payment.refunded == Decimal("9.99")
    assert len(fake_stripe.posts("/v1/refunds")) == 1
    assert PaymentRefund.objects.filter(status="done").count() == 2


def test_the_same_request_twice_is_one_refund(card_payment, fake_stripe):
    first = refund(card_payment, "5.00", key="form-token-1")
    again = refund(card_payment, "5.00", key="form-token-1")

    assert again.pk == first.pk
    assert len(fake_stripe.posts("/v1/refunds")) == 1
    card_payment.refresh_from_db()
    assert card_payment.refunded == Decimal("5.00")
    with pytest.raises(BillingRefused, match="another refund"):
        refund(card_payment, "1.00", key="form-token-1")


def test_an_unanswered_refund_is_sent_again_with_the_same_key_and_counted_once(
    card_payment, fake_stripe
):
    fake_stripe.lose_answers = 3  # Stripe refunds, but no answer arrives (nor to the SDK's retries)

    pending = refund(card_payment, "5.00", key="form-token-2")

    card_payment.refresh_from_db()
    assert (pending.status, card_payment.refunded) == ("requested", Decimal("0.00"))
    assert "did not answer" in pending.error
    with pytest.raises(BillingRefused, match="waiting for Stripe"):
        refund(card_payment, "1.00", to_credit=True)

    done = payment_refund_retry(refund=pending)

    keys = {call.idempotency_key for call in fake_stripe.posts("/v1/refunds")}
    assert keys == {pending.idempotency_key}
    assert len(fake_stripe.refunds) == 1
    card_payment.refresh_from_db()
    assert (done.status, card_payment.refunded) == ("done", Decimal("5.00"))
    assert payment_refund_retry(refund=done).status == "done"
    card_payment.refresh_from_db()
    assert card_payment.refunded == Decimal("5.00")


def test_a_refund_stripe_refuses_gives_nothing_back_and_frees_the_amount(card_payment, fake_stripe):
    fake_stripe.errors = [
        (400, {"error": {"type": "invalid_request_error", "code": "charge_disputed"}})
    ]

    with pytest.raises(BillingRefused, match=r"code charge_disputed.*Nothing was refunded"):
        refund(card_payment, "9.99")

    failed = PaymentRefund.objects.get()
    assert (failed.status, failed.error.startswith("Stripe refused")) == ("failed", True)
    card_payment.refresh_from_db()
    assert card_payment.refunded == Decimal("0.00")
    assert refund(card_payment, "9.99", to_credit=True).status == "done"


def test_a_bank_transfer_is_refunded_to_credit_not_through_stripe(invoice, customer, fake_stripe):
    payment = payment_record(
        invoice=invoice, amount=invoice.total, gateway=Gateway.BANK_TRANSFER,
        reference="bank-1", actor=None,
    )  # fmt: skip

    with pytest.raises(BillingRefused, match="through Stripe"):
        refund(payment, "1.00")
    refund(payment, "1.00", to_credit=True)

    assert credit_balance(customer) == Decimal("1.00")
    assert not fake_stripe.posts("/v1/refunds")

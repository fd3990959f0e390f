"""Paying with Stripe Checkout: the Pay button opens one Checkout Session for the balance due, in
the shop's currency and its minor unit, with an idempotency key saved before Stripe is asked, so
a lost answer or a second click never makes a second session."""

from datetime import timedelta
from decimal import Decimal

import pytest

from portal.accounts.services import customer_billing_details_update
from portal.billing.gateways import gateways, stripe_api
from portal.billing.models import Gateway, InvoiceStatus, StripeCheckout, TaxRate
from portal.billing.services import payment_record
from portal.billing.services.invoices import BillingRefused
from portal.billing.services.stripe_checkout import stripe_checkout_open
from tests.billing import stripe_fake
from tests.billing.stripe_fake import SECRET_KEY

# The fake's fixtures, bound here so pytest finds them for this module's tests.
fake_stripe = stripe_fake.fake_stripe
stripe_keys = stripe_fake.stripe_keys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


def pay_by_card(client, invoice):
    return client.post(f"/billing/invoices/{invoice.pk}/pay/stripe/")


def test_stripe_is_offered_only_when_both_secrets_are_set(settings, signed_in, invoice):
    assert "stripe" not in gateways()
    assert signed_in.post(f"/billing/invoices/{invoice.pk}/pay/stripe/").status_code == 404

    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"

    assert "stripe" in gateways()
    assert (
        'data-gateway="stripe"'
        in signed_in.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    )


def test_pay_opens_a_checkout_session_for_the_balance_due_and_sends_the_browser_there(
    signed_in, invoice, fake_stripe
):
    response = pay_by_card(signed_in, invoice)

    checkout = StripeCheckout.objects.get()
    [call] = fake_stripe.posts("/v1/checkout/sessions")
    assert call.authorization == f"Bearer {SECRET_KEY}"
    assert call.idempotency_key == checkout.idempotency_key
    assert call.params == {
        "mode": "payment",
        "client_reference_id": str(invoice.pk),
        "customer_email": "alice@example.com",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "999",
        "line_items[0][price_data][product_data][name]": f"Invoice #{invoice.pk}",
        "metadata[invoice_id]": str(invoice.pk),
        "metadata[checkout_id]": str(checkout.pk),
        "payment_intent_data[metadata][invoice_id]": str(invoice.pk),
        "payment_intent_data[metadata][checkout_id]": str(checkout.pk),
        "success_url": f"http://127.0.0.1:8000/billing/stripe/return/{checkout.pk}/",
        "cancel_url": f"http://127.0.0.1:8000/billing/invoices/{invoice.pk}/",
    }
    session = fake_stripe.only_session
    assert (response.status_code, response["Location"]) == (303, session["url"])
    assert "no-store" in response["Cache-Control"]
    assert (checkout.status, checkout.session_id, checkout.url) == (
        "open",
        session["id"],
        session["url"],
    )
    assert (checkout.amount, checkout.currency, checkout.amount_minor) == (
        Decimal("9.99"),
        "EUR",
        999,
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UNPAID


def test_a_lost_answer_is_asked_again_with_the_saved_key_and_makes_one_session(
    signed_in, invoice, fake_stripe, monkeypatch
):
    monkeypatch.setattr(stripe_api, "MAX_NETWORK_RETRIES", 0)
    fake_stripe.lose_answers = 1  # Stripe made the session; its answer never arrived

    first = pay_by_card(signed_in, invoice)

    assert first["Location"] == f"/billing/invoices/{invoice.pk}/"
    checkout = StripeCheckout.objects.get()
    assert (checkout.status, checkout.session_id) == ("creating", None)
    assert checkout.idempotency_key.startswith("portal-checkout-")
    assert "nothing was charged" in signed_in.get(first["Location"]).content.decode()

    second = pay_by_card(signed_in, invoice)

    keys = [call.idempotency_key for call in fake_stripe.posts("/v1/checkout/sessions")]
    assert keys == [checkout.idempotency_key] * 2
    assert len(fake_stripe.sessions) == 1
    assert second["Location"] == fake_stripe.only_session["url"]
    checkout.refresh_from_db()
    assert (checkout.status, checkout.session_id) == ("open", fake_stripe.only_session["id"])


def test_the_sdk_retries_a_failed_request_with_the_same_key(signed_in, invoice, fake_stripe):
    fake_stripe.errors = [(500, {"error": {"type": "api_error"}})]

    response = pay_by_card(signed_in, invoice)

    calls = fake_stripe.posts("/v1/checkout/sessions")
    assert [call.idempotency_key for call in calls] == [
        StripeCheckout.objects.get().idempotency_key
    ] * 2
    assert response["Location"] == fake_stripe.only_session["url"]


def test_a_second_click_goes_back_to_the_open_session_without_asking_stripe(
    signed_in, invoice, fake_stripe
):
    first = pay_by_card(signed_in, invoice)
    second = pay_by_card(signed_in, invoice)

    assert first["Location"] == second["Location"]
    assert len(fake_stripe.posts("/v1/checkout/sessions")) == 1
    assert StripeCheckout.objects.count() == 1


def test_a_changed_balance_is_a_new_attempt_with_its_own_key(signed_in, invoice, fake_stripe):
    pay_by_card(signed_in, invoice)
    payment_record(
        invoice=invoice, amount=Decimal("4.00"), gateway=Gateway.BANK_TRANSFER,
        reference="bank-1", actor=None,
    )  # fmt: skip

    pay_by_card(signed_in, invoice)

    first, second = fake_stripe.posts("/v1/checkout/sessions")
    assert (first.params["line_items[0][price_data][unit_amount]"],
            second.params["line_items[0][price_data][unit_amount]"]) == ("999", "599")  # fmt: skip
    assert first.idempotency_key != second.idempotency_key
    assert sorted(StripeCheckout.objects.values_list("amount", flat=True)) == [
        Decimal("5.99"),
        Decimal("9.99"),
    ]


def test_a_key_stripe_refuses_as_used_otherwise_is_given_up_for_a_new_attempt(
    signed_in, invoice, fake_stripe
):
    fake_stripe.errors = [
        (400, {"error": {"type": "idempotency_error", "message": "other params"}})
    ]

    first = pay_by_card(signed_in, invoice)

    assert first["Location"] == f"/billing/invoices/{invoice.pk}/"
    given_up = StripeCheckout.objects.get()
    assert given_up.status == "expired"
    assert "IdempotencyError" in given_up.last_error

    second = pay_by_card(signed_in, invoice)

    assert second["Location"] == fake_stripe.only_session["url"]
    fresh = StripeCheckout.objects.get(status="open")
    assert fresh.idempotency_key != given_up.idempotency_key


def test_an_invoice_not_open_for_payment_opens_no_session(invoice, fake_stripe):
    payment_record(
        invoice=invoice, amount=invoice.total, gateway=Gateway.BANK_TRANSFER, reference="b-1",
        actor=None,
    )  # fmt: skip

    with pytest.raises(BillingRefused, match="not open for payment"):
        stripe_checkout_open(invoice=invoice)
    assert not fake_stripe.calls
    assert not StripeCheckout.objects.exists()


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("9.99", "EUR", 999),
        ("0.10", "USD", 10),
        ("1500", "JPY", 1500),
        ("1500", "ISK", 150000),  # Stripe takes ISK with two (zero) decimals
        ("1.235", "KWD", 1235),
        ("123456789.01", "EUR", 12345678901),
    ],
)
def test_amounts_go_to_stripe_in_minor_units_and_come_back_exactly(amount, currency, minor):
    assert stripe_api.to_minor(Decimal(amount), currency) == minor
    assert stripe_api.from_minor(minor, currency) == Decimal(amount)


def test_amounts_that_are_not_whole_minor_units_or_not_integers_are_refused():
    with pytest.raises(ValueError, match="minor unit"):
        stripe_api.to_minor(Decimal("9.995"), "EUR")
    for not_an_int in (9.99, "999", True):
        with pytest.raises(ValueError, match="integers"):
            stripe_api.from_minor(not_an_int, "EUR")


def test_once_a_card_checkout_is_open_a_new_country_does_not_change_the_amount_being_paid(
    invoice, fake_stripe, customer
):
    checkout = stripe_checkout_open(invoice=invoice)
    TaxRate.objects.create(country="AT", name="USt", rate=Decimal("20"))

    customer_billing_details_update(customer=customer, country="AT")

    invoice.refresh_from_db()
    assert (invoice.total, invoice.tax_label) == (Decimal("9.99"), "No tax")
    assert invoice.buyer["country"] == ""  # the buyer it was taxed for, copied as payment began
    assert checkout.amount == invoice.balance_due


def test_a_lapsed_card_checkout_lets_a_new_country_re_tax_and_the_next_one_copies_it(
    invoice, fake_stripe, customer
):
    first = stripe_checkout_open(invoice=invoice)
    StripeCheckout.objects.filter(pk=first.pk).update(
        created_at=first.created_at - timedelta(hours=23, minutes=1)
    )  # unpaid for a day: Stripe lets the session expire
    TaxRate.objects.create(country="AT", name="USt", rate=Decimal("20"))

    customer_billing_details_update(customer=customer, country="AT")
    invoice.refresh_from_db()
    second = stripe_checkout_open(invoice=invoice)

    invoice.refresh_from_db()
    assert (invoice.total, invoice.tax_label) == (Decimal("11.99"), "USt 20%")
    assert invoice.buyer["country"] == "AT"
    assert (second.amount, second.pk != first.pk) == (Decimal("11.99"), True)

"""From sign-up to a working VPN over HTTP, as a new customer and an admin do it, with a real
Celery worker in its own process and the panel simulator in its own.

Sign up → confirm the address from the link in the recorded email → sign in → plan page → cart →
checkout (terms accepted) → bank transfer chosen on the invoice and an admin records the transfer
in the invoice admin, or a card payment through Stripe Checkout whose signed webhook arrives twice
→ the worker sets the service up on the panel and sends the welcome email.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import responses
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from portal.billing.models import Invoice
from portal.notifications import payload
from portal.notifications.models import EmailRecord
from portal.store.models import Order
from provisioning.models import Service, ServiceStatus
from tests.billing import stripe_fake
from tests.billing.stripe_fake import FakeStripe, event, post_event
from tests.notifications.helpers import wait_for_email, wait_until_no_email_is_in_flight
from tests.provisioning.conftest import settled, wait_for_service

stripe_keys = stripe_fake.stripe_keys  # the fixture, bound here so pytest finds it

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("private_cache")]

EMAIL = "dana.new@example.com"
PASSWORD = "a-long-and-new-passphrase-7"
BANK_REFERENCE = "BANK-2026-0042"
# The panel's protocol flags as the customer reads them.
PROTOCOL_LABELS = {
    "wireguard": "WireGuard",
    "amneziawg": "AmneziaWG",
    "openvpn": "OpenVPN",
    "ikev2": "IKEv2",
}


@pytest.fixture(autouse=True)
def recorded_email(settings) -> None:
    """Every message through the queued backend, as configured (pytest-django puts locmem there):
    recorded here, delivered by the worker."""
    settings.EMAIL_BACKEND = "portal.notifications.backends.QueuedEmailBackend"
    settings.BILLING_BANK_TRANSFER_INSTRUCTIONS = "Example Bank\nIBAN DE89 3704 0044 0532 0130 00"


def test_a_new_customer_signs_up_orders_pays_by_bank_transfer_and_gets_a_working_vpn(
    live_worker,
    panel,
    shop_plan,
    admin_client,
):
    browser = sign_up_and_sign_in()
    invoice = order_monthly(browser, shop_plan)

    # The customer chooses bank transfer and reads the instructions.
    invoice_url = reverse("billing:invoice_detail", args=[invoice.pk])
    pay_url = reverse("billing:invoice_pay", args=[invoice.pk, "bank_transfer"])
    assert f'action="{pay_url}"' in browser.get(invoice_url).content.decode()
    instructions = browser.post(pay_url).content.decode()
    assert "IBAN DE89 3704 0044 0532 0130 00" in instructions
    assert "14.99 EUR" in instructions

    # The transfer arrives: an admin records it on the invoice's admin page.
    record_payment = reverse("admin:billing_invoice_pay", args=[invoice.pk])
    assert admin_client.get(record_payment).status_code == 200
    response = admin_client.post(record_payment, {"amount": "14.99", "reference": BANK_REFERENCE})
    assert response["Location"] == reverse("admin:billing_invoice_change", args=[invoice.pk])

    assert_paid_once_and_welcomed_on_a_working_vpn(browser, panel, shop_plan, BANK_REFERENCE)


def test_the_same_paid_by_card_through_a_signed_stripe_webhook_delivered_twice(
    live_worker, panel, shop_plan, simulator, stripe_keys
):
    browser = sign_up_and_sign_in()
    invoice = order_monthly(browser, shop_plan)

    # Pay by card: the Checkout Session is made through the SDK against a fake Stripe; Stripe's
    # signed webhook, built here as Stripe sends it, arrives twice.
    with responses.RequestsMock(
        assert_all_requests_are_fired=False, passthru_prefixes=(simulator.url,)
    ) as mock:
        stripe = FakeStripe(mock)
        pay = browser.post(reverse("billing:invoice_pay", args=[invoice.pk, "stripe"]))
    assert pay["Location"] == stripe.only_session["url"]
    assert stripe.only_session["amount_total"] == 1499
    completed = event("checkout.session.completed", stripe.pay(stripe.only_session["id"]))
    assert [post_event(Client(), completed).status_code for _ in range(2)] == [200, 200]

    assert_paid_once_and_welcomed_on_a_working_vpn(
        browser, panel, shop_plan, stripe.only_session["id"]
    )


# The steps ---------------------------------------------------------------------------------------


def sign_up_and_sign_in() -> Client:
    """Sign up, confirm the address with the link of the email the portal recorded, and sign in
    on the login page (a new session, as on another day)."""
    browser = Client()
    response = browser.post(
        reverse("account_signup"), {"email": EMAIL, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    verification = wait_for_email(kind="email_verification", to=EMAIL)
    assert verification.status == "sent", verification.last_error
    link = only_link(payload.text_body(verification.message))
    assert "Confirm" in browser.get(link).content.decode()
    assert browser.post(link).status_code == 302

    browser = Client()
    response = browser.post(reverse("login"), {"username": EMAIL, "password": PASSWORD})
    assert response["Location"] == reverse("client_area:service_list")
    return browser


def order_monthly(browser: Client, plan) -> Invoice:
    """The storefront → the plan → the cart → checkout: the order's invoice."""
    home = browser.get(reverse("home")).content.decode()
    plan_url = reverse("store:plan_detail", args=[plan.slug])
    assert f'href="{plan_url}"' in home
    assert 'id="add-to-cart"' in browser.get(plan_url).content.decode()
    response = browser.post(plan_url, {"cycle": "monthly", "quantity": 1})
    assert response["Location"] == reverse("store:cart")
    cart = browser.get(reverse("store:cart")).content.decode()
    assert f'href="{reverse("store:checkout")}"' in cart
    checkout = browser.get(reverse("store:checkout")).content.decode()
    token = re.search(r'name="checkout_token" value="([0-9a-f-]+)"', checkout)[1]
    response = browser.post(
        reverse("store:checkout"), {"checkout_token": token, "coupon": "", "accept_terms": "on"}
    )
    invoice = Invoice.objects.get(customer__user__email=EMAIL)
    assert response["Location"] == reverse("billing:invoice_detail", args=[invoice.pk])
    assert invoice.total == Decimal("14.99")  # 9.99 monthly + 5.00 setup, no tax rate set
    return invoice


def assert_paid_once_and_welcomed_on_a_working_vpn(
    browser: Client, panel, plan, payment_reference: str
) -> None:
    """The worker set the service up and welcomed the customer: one order, invoice, payment and
    service; its client the only one on the panel; one welcome email with the client name, the
    network's protocols and the link, never the password; Active on My services."""
    service = wait_for_service(Service.objects.get(customer__user__email=EMAIL), settled)
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    welcome = wait_for_email(kind="welcome", object_id=str(service.pk))

    user = get_user_model().objects.get(email=EMAIL)
    invoice = Invoice.objects.get(customer__user=user)
    assert Order.objects.filter(customer__user=user).count() == 1
    assert invoice.status == "paid"
    assert re.fullmatch(r"INV-\d{4}-\d{6}", invoice.number or "")
    assert list(invoice.payments.values_list("reference", "amount")) == [
        (payment_reference, Decimal("14.99"))
    ]
    assert Service.objects.filter(customer__user=user).count() == 1
    assert service.product == plan.product

    client_on_panel = panel.get_client(service.remote_name)
    assert [c.name for c in panel.clients()] == [service.remote_name]
    assert client_on_panel.network_name == service.network == "office"
    network = panel.network(client_on_panel.network_name)
    protocols = [PROTOCOL_LABELS[p.value] for p in network.enabled_protocols]

    assert EmailRecord.objects.filter(kind="welcome").count() == 1
    assert (welcome.status, welcome.to) == ("sent", EMAIL)
    text = payload.text_body(welcome.message)
    assert f"Hello {user.customer.display_name}," in text
    assert "Plan: VPN 100" in text
    assert f"VPN client name: {service.remote_name}" in text
    [listed] = re.findall(r"^Protocols: (.*)$", text, re.MULTILINE)
    assert sorted(listed.split(", ")) == sorted(protocols)
    assert f"http://127.0.0.1:8000/services/{service.pk}/" in text
    assert client_on_panel.password not in welcome.message

    services_page = browser.get(reverse("client_area:service_list")).content.decode()
    assert service.remote_name in services_page
    assert '<span class="pill pill--active">Active</span>' in services_page
    wait_until_no_email_is_in_flight()


def only_link(text: str) -> str:
    """The path of the one link in ``text``."""
    [url] = re.findall(r"https?://\S+", text)
    return re.sub(r"^https?://[^/]+", "", url)

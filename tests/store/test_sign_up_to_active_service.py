"""From sign-up to a working VPN over HTTP, as a new customer and an admin do it, with a real
Celery worker in its own process and the panel simulator in its own.

Sign up → confirm the address from the link in the recorded email → sign in → plan page → cart →
checkout (terms accepted) → bank transfer chosen on the invoice → an admin records the transfer in
the invoice admin → the worker sets the service up on the panel and sends the welcome email.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from portal.billing.models import Invoice
from portal.notifications import payload
from portal.notifications.models import EmailRecord
from portal.store.models import Order
from provisioning.models import Service, ServiceStatus
from tests.notifications.helpers import wait_for_email, wait_until_no_email_is_in_flight
from tests.provisioning.conftest import settled, wait_for_service

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
    browser = Client()

    # Sign up, and confirm the address with the link of the email the portal recorded.
    response = browser.post(
        reverse("account_signup"), {"email": EMAIL, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    verification = wait_for_email(kind="email_verification", to=EMAIL)
    assert verification.status == "sent", verification.last_error
    link = only_link(payload.text_body(verification.message))
    assert "Confirm" in browser.get(link).content.decode()
    assert browser.post(link).status_code == 302

    # Sign in on the login page (a new session, as on another day).
    browser = Client()
    response = browser.post(reverse("login"), {"username": EMAIL, "password": PASSWORD})
    assert response["Location"] == reverse("client_area:service_list")

    # The storefront → the plan → the cart → checkout.
    home = browser.get(reverse("home")).content.decode()
    plan_url = reverse("store:plan_detail", args=[shop_plan.slug])
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
    invoice_url = reverse("billing:invoice_detail", args=[invoice.pk])
    assert response["Location"] == invoice_url
    assert invoice.total == Decimal("14.99")  # 9.99 monthly + 5.00 setup, no tax rate set

    # The customer chooses bank transfer and reads the instructions.
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

    # The worker sets the service up and welcomes the customer.
    service = wait_for_service(Service.objects.get(customer__user__email=EMAIL), settled)
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    welcome = wait_for_email(kind="welcome", object_id=str(service.pk))

    user = get_user_model().objects.get(email=EMAIL)
    invoice.refresh_from_db()
    assert Order.objects.filter(customer__user=user).count() == 1
    assert Invoice.objects.filter(customer__user=user).count() == 1
    assert invoice.status == "paid"
    assert re.fullmatch(r"INV-\d{4}-\d{6}", invoice.number or "")
    assert list(invoice.payments.values_list("reference", "amount")) == [
        (BANK_REFERENCE, Decimal("14.99"))
    ]
    assert Service.objects.filter(customer__user=user).count() == 1
    assert service.product == shop_plan.product

    # Its client on the panel, asked by the service's remote name: the only one there.
    client_on_panel = panel.get_client(service.remote_name)
    assert [c.name for c in panel.clients()] == [service.remote_name]
    assert client_on_panel.network_name == service.network == "office"
    network = panel.network(client_on_panel.network_name)
    protocols = [PROTOCOL_LABELS[p.value] for p in network.enabled_protocols]

    # The welcome email: recorded once, sent, with the client, the protocols and the link.
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

    # The customer sees it active on My services.
    services_page = browser.get(reverse("client_area:service_list")).content.decode()
    assert service.remote_name in services_page
    assert '<span class="pill pill--active">Active</span>' in services_page
    wait_until_no_email_is_in_flight()


def only_link(text: str) -> str:
    """The path of the one link in ``text``."""
    [url] = re.findall(r"https?://\S+", text)
    return re.sub(r"^https?://[^/]+", "", url)

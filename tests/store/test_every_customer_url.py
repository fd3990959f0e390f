"""Every URL of the shop and of the customer's billing pages, found from the URLconf itself (any
pattern whose view lives in ``portal.store`` or ``portal.billing``, wherever it is mounted): a URL
added later without its checks fails here.

- A page that is not named in PUBLIC sends an anonymous visitor to the login page (GET and POST).
- A URL taking an object id answers another customer 404 (GET and POST), and changes nothing.
- A POST without the CSRF token is refused (403) and changes nothing, public pages included.
- A GET changes nothing; the POST-only URLs answer GET with 405.

Server-to-server endpoints (a payment provider's webhook: no session, no CSRF token, a signature
instead) must be named in SERVER_TO_SERVER with the reason; they are held to that instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from portal.billing.gateways import gateways
from portal.billing.models import (
    CreditEntry,
    Invoice,
    StripeCheckout,
    StripeCheckoutStatus,
    Subscription,
)
from portal.billing.services import LineSpec, invoice_create
from portal.store.cart import SESSION_KEY as CART
from portal.store.models import Plan
from tests.factories import ServiceFactory
from tests.snapshots import changed_tables, database_snapshot, without_panel_reads

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]

APPS = ("portal.store.", "portal.billing.")

#: Pages for visitors, with the reason they need no signed-in customer.
PUBLIC = {
    "home": "the catalogue: the shop window",
    "store:plan_detail": "a plan's page, and adding it to the cart: shopping before signing in",
    "store:cart": "the cart lives in the session; signing in comes at checkout",
    "store:cart_remove": "the visitor's own session cart",
}
#: Endpoints called by a payment provider's servers, not by a browser: no session and no CSRF
#: token, a signature over the raw body instead. Name each with the reason.
SERVER_TO_SERVER = {
    "billing:stripe_webhook": "Stripe posts its events with a Stripe-Signature over the raw "
    "body, checked instead (tests/billing/test_stripe_webhook.py)",
}
#: URLs that only change state: a GET is refused with 405.
POST_ONLY = {
    "store:cart_remove",
    "billing:invoice_pay",
    "billing:invoice_apply_credit",
    "billing:cancellation_request",
    "billing:cancellation_withdraw",
}


@dataclass(frozen=True)
class Shop:
    """The owner's side of the shop: a plan on sale (in their cart), an unpaid invoice, and
    credit enough to pay it, a running service billed monthly — so that any request let through
    would change something."""

    plan: Plan
    invoice: Invoice
    stripe_checkout: StripeCheckout
    subscription: Subscription


#: What each URL taking arguments is given (one URL per dict). An ``int`` argument is an object
#: id: the owner's object, which another customer must not reach.
ARGUMENTS: dict[str, Callable[[Shop], list[dict]]] = {
    "store:plan_detail": lambda shop: [{"slug": shop.plan.slug}],
    "billing:invoice_detail": lambda shop: [{"pk": shop.invoice.pk}],
    "billing:invoice_pdf": lambda shop: [{"pk": shop.invoice.pk}],
    "billing:invoice_pay": lambda shop: [
        {"pk": shop.invoice.pk, "gateway": key} for key in gateways()
    ],
    "billing:invoice_apply_credit": lambda shop: [{"pk": shop.invoice.pk}],
    # A GET that may record a payment, by design: it asks Stripe about its own session and
    # applies Stripe's answer as the webhook would (once); nothing in the request is believed.
    # The shop's attempt has no session yet, so here Stripe is not asked and nothing changes.
    "billing:stripe_return": lambda shop: [{"pk": shop.stripe_checkout.pk}],
    "billing:cancellation_request": lambda shop: [{"pk": shop.subscription.service_id}],
    "billing:cancellation_withdraw": lambda shop: [{"pk": shop.subscription.service_id}],
    "store:change_plan": lambda shop: [{"pk": shop.subscription.service_id}],
}


def _patterns(patterns, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # staff pages: tests/accounts/test_staff_roles.py
            if getattr(pattern.urlconf_name, "__name__", "") == "portal.api_urls":
                continue  # the REST API: token auth, no session or CSRF; tests/api/
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}", pattern


def _module(pattern: URLPattern) -> str:
    view = getattr(pattern.callback, "view_class", pattern.callback)
    return f"{view.__module__}."


SHOP_URLS: dict[str, URLPattern] = {
    name: pattern
    for name, pattern in _patterns(get_resolver().url_patterns)
    if _module(pattern).startswith(APPS)
}
CUSTOMER_URLS = sorted(set(SHOP_URLS) - set(PUBLIC) - set(SERVER_TO_SERVER))
BROWSER_URLS = sorted(set(SHOP_URLS) - set(SERVER_TO_SERVER))
OBJECT_URLS = sorted(
    name
    for name, pattern in SHOP_URLS.items()
    if any(isinstance(c, IntConverter) for c in pattern.pattern.converters.values())
)


def urls(name: str, shop: Shop) -> list[str]:
    if not SHOP_URLS[name].pattern.converters:
        return [reverse(name)]
    return [reverse(name, kwargs=kwargs) for kwargs in ARGUMENTS[name](shop)]


@pytest.fixture
def shop(shop_plan, customer, settings) -> Shop:
    settings.BILLING_DEMO_GATEWAY = True
    settings.BILLING_BANK_TRANSFER_INSTRUCTIONS = "Acme Ltd, IBAN DE02 1203 0000 0000 2020 51"
    line = LineSpec(
        description="VPN 100 (monthly)",
        unit_price=Decimal("9.99"),
        product=shop_plan.product,
        cycle="monthly",
        recurring_price=Decimal("9.99"),
    )
    invoice = invoice_create(customer=customer, lines=[line], actor=None)
    CreditEntry.objects.create(customer=customer, amount=Decimal("50.00"), reason="a gift")
    stripe_checkout = StripeCheckout.objects.create(
        invoice=invoice,
        amount=invoice.total,
        currency=invoice.currency,
        amount_minor=int(invoice.total * 100),
        idempotency_key=f"sweep:{uuid.uuid4()}",
        status=StripeCheckoutStatus.FAILED,
    )
    subscription = Subscription.objects.create(
        service=ServiceFactory(customer=customer, product=shop_plan.product, status="active"),
        customer=customer,
        cycle="monthly",
        recurring_price=Decimal("9.99"),
        anchor_day=1,
        next_due_date=date(2099, 1, 1),
        ordered_on=invoice.lines.get(),
    )
    return Shop(
        plan=shop_plan, invoice=invoice, stripe_checkout=stripe_checkout, subscription=subscription
    )


def signed_in(user, shop: Shop, *, enforce_csrf_checks: bool = False) -> Client:
    """A browser of ``user`` with the shop's plan in its cart."""
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(user)
    session = client.session
    session[CART] = [[shop.plan.pk, "monthly", 1]]
    session.save()
    return client


def form_data(shop: Shop) -> dict[str, str]:
    """Every field of the shop's forms at once, each valid: any form let through acts on it."""
    return {
        "cycle": "annual",
        "quantity": "2",
        "plan": str(shop.plan.pk),
        "checkout_token": str(uuid.uuid4()),
        "accept_terms": "on",
        "coupon": "",
        "amount": "25.00",
    }


# The list itself ----------------------------------------------------------------------------------


def test_the_list_of_urls_is_complete():
    assert set(SHOP_URLS) >= {
        "home",
        "store:plan_detail",
        "store:cart",
        "store:cart_remove",
        "store:checkout",
        "store:order_list",
        "billing:invoice_list",
        "billing:invoice_detail",
        "billing:invoice_pdf",
        "billing:invoice_pay",
        "billing:invoice_apply_credit",
        "billing:credit",
    }
    assert set(OBJECT_URLS) >= {"billing:invoice_detail", "billing:invoice_pay"}


def test_every_url_is_named_and_every_exception_is_a_url():
    assert "None" not in {name.rpartition(":")[2] for name in SHOP_URLS}
    assert set(PUBLIC) | set(SERVER_TO_SERVER) | POST_ONLY <= set(SHOP_URLS)


def test_every_url_taking_arguments_is_told_what_to_pass():
    taking_arguments = {name for name, pattern in SHOP_URLS.items() if pattern.pattern.converters}

    assert taking_arguments == set(ARGUMENTS)


# Signed in ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CUSTOMER_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_login_on_every_url(name, method, shop):
    before = database_snapshot()

    for url in urls(name, shop):
        response = getattr(Client(), method)(url, form_data(shop))

        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{reverse('login')}?next="), url
    assert changed_tables(before, database_snapshot()) == []


# Ownership ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OBJECT_URLS)
def test_another_customers_object_is_404_on_every_url_and_untouched(
    name, shop, other_customer, customer
):
    mallory = signed_in(other_customer.user, shop)
    owner = signed_in(customer.user, shop)
    before = database_snapshot()

    answers = {
        (method, url): getattr(mallory, method)(url, form_data(shop))
        for url in urls(name, shop)
        for method in ("get", "post")
    }

    assert changed_tables(before, database_snapshot()) == []
    statuses = {key: response.status_code for key, response in answers.items()}
    assert set(statuses.values()) <= {404, 405}, statuses
    assert 404 in statuses.values()
    for response in answers.values():
        assert b"alice" not in response.content
    # The same URLs are the owner's: the 404 was the ownership check, not a wrong URL.
    for (method, url), status in statuses.items():
        if status == 404:
            assert getattr(owner, method)(url, form_data(shop)).status_code != 404, (method, url)


def test_an_unknown_or_enormous_invoice_id_is_404(shop, customer):
    owner = signed_in(customer.user, shop)

    for pk in (shop.invoice.pk + 1000, 2**70):
        assert owner.get(reverse("billing:invoice_detail", args=[pk])).status_code == 404
        assert owner.get(reverse("billing:invoice_pdf", args=[pk])).status_code == 404
        assert owner.post(reverse("billing:invoice_pay", args=[pk, "demo"])).status_code == 404
        assert owner.post(reverse("billing:invoice_apply_credit", args=[pk])).status_code == 404


# CSRF and methods -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", BROWSER_URLS)
def test_every_post_needs_the_csrf_token_and_changes_nothing_without_it(name, shop, customer):
    strict = signed_in(customer.user, shop, enforce_csrf_checks=True)
    before = database_snapshot()

    for url in urls(name, shop):
        assert strict.post(url, form_data(shop)).status_code == 403, url

    assert changed_tables(before, database_snapshot()) == []
    assert strict.session[CART] == [[shop.plan.pk, "monthly", 1]]


@pytest.mark.parametrize("name", BROWSER_URLS)
def test_a_get_changes_nothing_and_post_only_urls_refuse_it(name, shop, customer):
    owner = signed_in(customer.user, shop)
    before = database_snapshot()

    statuses = {url: owner.get(url, form_data(shop)).status_code for url in urls(name, shop)}

    expected = 405 if name in POST_ONLY else 200
    assert statuses == dict.fromkeys(statuses, expected)
    assert changed_tables(*map(without_panel_reads, (before, database_snapshot()))) == []
    assert owner.session[CART] == [[shop.plan.pk, "monthly", 1]]


# Server to server -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SERVER_TO_SERVER))
def test_a_server_to_server_endpoint_refuses_what_is_not_signed(name, shop, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_sweep0123456789"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_sweep0123456789"
    before = database_snapshot()

    for url in urls(name, shop):
        body = f'{{"id": "evt_forged", "invoice": {shop.invoice.pk}}}'
        unsigned = Client().post(url, body, content_type="application/json")
        forged = Client().post(
            url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=00"
        )
        assert (unsigned.status_code, forged.status_code) == (400, 400), url
        assert Client().get(url).status_code == 405, url

    assert changed_tables(before, database_snapshot()) == []

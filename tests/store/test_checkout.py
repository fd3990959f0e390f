"""Cart and checkout: one order, one invoice, once; sold out refused before anything is made;
coupons for the first payment or every payment."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portal.billing.models import CreditEntry, Invoice
from portal.billing.selectors import credit_balance
from portal.billing.services import LineSpec, invoice_cancel, invoice_create
from portal.core.models import Branding
from portal.store import services
from portal.store.models import Order
from provisioning.models import Service
from tests.factories import CouponFactory
from tests.store.shopping import add, check_out

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


def test_adding_to_the_cart_and_removing_again(client, shop_plan):
    assert add(client, quantity=2)["Location"] == "/cart/"
    page = client.get("/cart/").content.decode()
    assert "VPN 100" in page
    assert "29.98 EUR" in page  # 2 x (9.99 + 5.00 setup)

    client.post("/cart/remove/", {"plan": shop_plan.pk, "cycle": "monthly"})

    assert "Your cart is empty" in client.get("/cart/").content.decode()


def test_checkout_needs_a_signed_in_customer(client, shop_plan):
    add(client)

    response = client.get("/checkout/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_checkout_makes_one_order_and_its_invoice_then_shows_the_invoice(signed_in, shop_plan):
    add(signed_in, quantity=2)

    response = check_out(signed_in)

    order = Order.objects.get()
    invoice = order.invoice
    assert response["Location"] == f"/billing/invoices/{invoice.pk}/"
    assert [(line.description, line.quantity, line.amount) for line in invoice.lines.all()] == [
        ("VPN 100 (monthly)", 2, Decimal("19.98")),
        ("Setup fee: VPN 100", 2, Decimal("10.00")),
    ]
    assert invoice.total == Decimal("29.98")
    assert (invoice.status, invoice.number) == ("unpaid", None)
    assert signed_in.session.get("store:cart") is None


def test_the_checkout_sent_twice_makes_one_order(signed_in, shop_plan):
    add(signed_in)
    token = uuid.uuid4()

    first = check_out(signed_in, token=token)
    add(signed_in)  # the cart is emptied after the first; a second tab still has the form
    second = check_out(signed_in, token=token)

    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_double_click_on_a_coupons_last_use_gets_the_first_order_not_an_error(
    signed_in, shop_plan, monkeypatch
):
    CouponFactory(code="LAST", max_uses=1)
    add(signed_in)
    token = uuid.uuid4()
    first = check_out(signed_in, token=token, coupon="LAST")
    real_lookup, real_place, placed = services._placed_already, services._place, []
    lookups = iter([None])  # the twin's first look ran before the first order committed

    def first_look_misses(*args):
        for missed in lookups:
            return missed
        return real_lookup(*args)

    def place(*args):
        placed.append(args[2])
        return real_place(*args)

    monkeypatch.setattr(services, "_placed_already", first_look_misses)
    monkeypatch.setattr(services, "_place", place)

    add(signed_in)
    second = check_out(signed_in, token=token, coupon="LAST")

    assert placed == [token]  # the twin went on to place it, and found the order under the lock
    assert second.status_code == 302, second.content.decode()[-500:]
    assert first["Location"] == second["Location"]
    assert (Order.objects.count(), Invoice.objects.count()) == (1, 1)


def test_another_customers_checkout_token_is_refused_and_reveals_nothing(
    signed_in, shop_plan, other_customer
):
    token = uuid.uuid4()
    line = LineSpec(description="VPN 100", unit_price=Decimal("9.99"))
    invoice = invoice_create(
        customer=other_customer,
        lines=[line],
        actor=None,
        source_key=f"order:{other_customer.pk}:{token}",
    )
    theirs = Order.objects.create(customer=other_customer, checkout_token=token, invoice=invoice)
    add(signed_in)

    response = check_out(signed_in, token=token)

    assert response.status_code == 200
    assert "This checkout form was sent already" in response.content.decode()
    assert f"/invoices/{invoice.pk}/" not in response.content.decode()
    assert list(Order.objects.all()) == [theirs]
    assert list(Invoice.objects.all()) == [invoice]


def test_terms_must_be_accepted(signed_in, shop_plan):
    add(signed_in)

    response = signed_in.post("/checkout/", {"checkout_token": uuid.uuid4()})

    assert "accept the terms" in response.content.decode()
    assert not Order.objects.exists()


def test_sold_out_at_checkout_is_refused_before_anything_is_invoiced(
    signed_in, shop_plan, simulator
):
    add(signed_in)  # the plan had room when it went into the cart (and is cached so)
    simulator.knob("POST", "slots/exhaust")

    response = check_out(signed_in)

    assert response.status_code == 200
    assert "VPN 100 is sold out just now, so nothing was ordered" in response.content.decode()
    assert not Order.objects.exists()
    assert not Invoice.objects.exists()


def test_a_first_payment_coupon_discounts_the_first_invoice_only(signed_in, shop_plan):
    CouponFactory(code="WELCOME", kind="percent", value=Decimal("50"), scope="first")
    add(signed_in)

    check_out(signed_in, coupon="welcome")

    invoice = Order.objects.get().invoice
    lines = {line.description: line for line in invoice.lines.all()}
    assert lines["Coupon WELCOME: VPN 100"].amount == Decimal("-5.00")  # 50 % of 9.99, rounded
    assert invoice.total == Decimal("9.99")  # 9.99 + 5.00 setup - 5.00
    assert lines["VPN 100 (monthly)"].recurring_price == Decimal("9.99")


def test_a_recurring_coupon_lowers_the_recurring_price_too(signed_in, shop_plan):
    CouponFactory(code="LOYAL", kind="fixed", value=Decimal("2.00"), scope="recurring")
    add(signed_in)

    check_out(signed_in, coupon="LOYAL")

    line = Order.objects.get().invoice.lines.get(description="VPN 100 (monthly)")
    assert line.recurring_price == Decimal("7.99")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "OLD", "valid_until": timezone.now() - timedelta(days=1)}, "has expired"),
        ({"code": "USED", "max_uses": 0}, "has been used up"),
        ({"code": "OFF", "active": False}, "is not valid"),
    ],
)
def test_an_unusable_coupon_is_refused_and_nothing_is_ordered(
    signed_in, shop_plan, fields, message
):
    CouponFactory(**fields)
    add(signed_in)

    response = check_out(signed_in, coupon=fields["code"])

    assert message in response.content.decode()
    assert not Order.objects.exists()


def test_a_coupon_counts_its_uses_and_a_cancelled_order_gives_one_back(signed_in, shop_plan):
    coupon = CouponFactory(code="TWICE", max_uses=2)
    for _ in range(2):
        add(signed_in)
        check_out(signed_in, coupon="TWICE")
    add(signed_in)

    third = check_out(signed_in, coupon="TWICE")

    assert Order.objects.filter(coupon=coupon).count() == 2
    assert "has been used up" in third.content.decode()

    invoice_cancel(invoice=Order.objects.first().invoice, actor=None, reason="never paid")
    add(signed_in)
    fourth = check_out(signed_in, coupon="TWICE")

    assert fourth.status_code == 302  # the cancelled order gave its use back
    assert Order.objects.filter(coupon=coupon).count() == 3


def test_a_free_order_is_paid_at_once_and_its_service_ordered(signed_in, shop_plan, customer):
    shop_plan.prices.update(setup_fee=0)
    CouponFactory(code="FREE", kind="percent", value=Decimal("100"), scope="first")
    add(signed_in)

    check_out(signed_in, coupon="FREE")

    invoice = Order.objects.get().invoice
    assert (invoice.total, invoice.status) == (0, "paid")
    assert customer.services.count() == 1


def give_credit(customer, amount):
    CreditEntry.objects.create(customer=customer, amount=Decimal(amount), reason="goodwill")


def test_credit_that_covers_the_order_pays_it_at_checkout(signed_in, shop_plan, customer):
    give_credit(customer, "20.00")
    add(signed_in)
    assert "Pay what I can from my credit balance (20.00 EUR)" in (
        signed_in.get("/checkout/").content.decode()
    )

    check_out(signed_in, use_credit="on")

    invoice = Order.objects.get().invoice
    assert (invoice.status, invoice.amount_paid) == ("paid", Decimal("14.99"))
    assert invoice.number
    assert credit_balance(customer) == Decimal("5.01")
    assert Service.objects.filter(customer=customer, product=shop_plan.product).count() == 1


def test_credit_that_covers_part_pays_that_part_and_leaves_the_rest_due(
    signed_in, shop_plan, customer
):
    give_credit(customer, "5.00")
    add(signed_in)

    check_out(signed_in, use_credit="on")

    invoice = Order.objects.get().invoice
    assert (invoice.status, invoice.amount_paid, invoice.balance_due) == (
        "unpaid", Decimal("5.00"), Decimal("9.99")
    )  # fmt: skip
    assert credit_balance(customer) == 0
    assert not Service.objects.filter(customer=customer).exists()


def test_credit_is_left_alone_unless_asked(signed_in, shop_plan, customer):
    give_credit(customer, "20.00")
    add(signed_in)

    check_out(signed_in)

    assert Order.objects.get().invoice.amount_paid == 0
    assert credit_balance(customer) == Decimal("20.00")


def test_no_credit_no_credit_box(signed_in, shop_plan):
    add(signed_in)

    assert "credit balance" not in signed_in.get("/checkout/").content.decode()


def test_checkout_asks_for_billing_details_until_the_customer_has_a_country(
    signed_in, shop_plan, customer
):
    Branding.objects.update_or_create(pk=1, defaults={"country": "DE"})
    add(signed_in)
    before = signed_in.get("/checkout/").content.decode()

    customer.country = "AT"
    customer.save()
    after = signed_in.get("/checkout/").content.decode()

    assert "You have not given your billing details yet" in before
    assert "taxed as a sale in Germany" in before
    assert 'href="/account/billing/"' in before
    assert "You have not given your billing details yet" not in after

"""The storefront's pages make a fixed number of queries, however many plans, cart items or
orders there are."""

from decimal import Decimal

import pytest

from portal.store.cart import cart_add
from portal.store.models import Order
from tests.factories import PlanFactory, PlanPriceFactory, ProductFactory
from tests.queries import page_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


def plans(count: int) -> list:
    made = []
    for _ in range(count):
        plan = PlanFactory(product=ProductFactory())
        for cycle in ("monthly", "annual"):
            PlanPriceFactory(plan=plan, cycle=cycle, price=Decimal("9.99"))
        made.append(plan)
    return made


def test_the_storefront(client):
    plans(2)
    two = page_queries(client, "/")
    plans(8)

    assert page_queries(client, "/") == two == 2  # plans with products, their prices


def test_a_plan_page(client):
    (plan,) = plans(1)

    assert page_queries(client, f"/plans/{plan.slug}/") == 2  # the plan with product, prices


def test_the_cart(client):
    for plan in plans(2):
        add_to_cart(client, plan)
    two = page_queries(client, "/cart/")
    for plan in plans(8):
        add_to_cart(client, plan)

    assert page_queries(client, "/cart/") == two == 2  # session, the prices with plans


def test_my_orders(client, customer):
    client.force_login(customer.user)
    (plan,) = plans(1)
    make_orders(customer, plan, 2)
    two = page_queries(client, "/orders/")
    make_orders(customer, plan, 8)

    # session, user, orders with invoices, their items, plans, products
    assert page_queries(client, "/orders/") == two == 6


def add_to_cart(client, plan) -> None:
    session = client.session
    cart_add(session, plan_id=plan.pk, cycle="monthly", quantity=1)
    session.save()


def make_orders(customer, plan, count: int) -> None:
    from portal.billing.services import LineSpec, invoice_create

    for _ in range(count):
        invoice = invoice_create(
            customer=customer,
            lines=[LineSpec(description=plan.name, unit_price=Decimal("9.99"))],
            actor=None,
        )
        order = Order.objects.create(customer=customer, invoice=invoice)
        order.items.create(plan=plan, cycle="monthly", quantity=1, price=Decimal("9.99"))

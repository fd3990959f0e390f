"""A checkout sent several times at once (a double click, a second tab) on PostgreSQL: every
request returns the one order, the coupon's last use is taken once, and no request fails."""

import os
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from portal.billing.models import Invoice
from portal.store import services
from portal.store.cart import CartItem
from portal.store.models import Order
from tests.factories import CouponFactory, PlanFactory, PlanPriceFactory
from tests.services import REQUIRE_SERVICES, service_unavailable

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TWINS = 8


def test_the_same_checkout_sent_at_once_makes_one_order(customer, product, monkeypatch):
    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES or os.environ.get("DATABASE_URL", "").startswith("postgres"):
            pytest.fail("this test must run on PostgreSQL")
        service_unavailable("DATABASE_URL does not point at PostgreSQL")
    monkeypatch.setattr(services, "plan_room", lambda plan, *, count: count)
    plan = PlanFactory(product=product)
    item = CartItem(plan, PlanPriceFactory(plan=plan, price=Decimal("9.99")), 1)
    CouponFactory(code="LAST", max_uses=1)
    token, start = uuid.uuid4(), threading.Barrier(TWINS)
    orders, errors = [], []

    def check_out() -> None:
        try:
            start.wait(timeout=30)
            order = services.order_place(
                customer=customer, items=[item], checkout_token=token, terms_accepted=True,
                coupon_code="LAST", actor=None,
            )  # fmt: skip
            orders.append(order.pk)
        except Exception as exc:  # every failure is the finding
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=check_out) for _ in range(TWINS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(orders) == TWINS
    assert len(set(orders)) == 1
    assert (Order.objects.count(), Invoice.objects.count()) == (1, 1)
    assert Order.objects.get().coupon.code == "LAST"

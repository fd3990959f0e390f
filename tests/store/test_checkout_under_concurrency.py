"""A checkout sent several times at once (a double click, a second tab) on PostgreSQL: every
request returns the one order, the coupon's last use is taken once, and no request fails."""

import uuid
from decimal import Decimal

import pytest

from portal.billing.models import Invoice
from portal.store import services
from portal.store.cart import CartItem
from portal.store.models import Order
from tests.concurrency import at_once
from tests.factories import CouponFactory, PlanFactory, PlanPriceFactory
from tests.services import postgresql_or_skip

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TWINS = 8


def test_the_same_checkout_sent_at_once_makes_one_order(customer, product, monkeypatch):
    postgresql_or_skip()
    monkeypatch.setattr(services, "plan_room", lambda plan, *, count: count)
    plan = PlanFactory(product=product)
    item = CartItem(plan, PlanPriceFactory(plan=plan, price=Decimal("9.99")), 1)
    CouponFactory(code="LAST", max_uses=1)
    token = uuid.uuid4()

    def check_out() -> int:
        return services.order_place(
            customer=customer, items=[item], checkout_token=token, terms_accepted=True,
            coupon_code="LAST", actor=None,
        ).pk  # fmt: skip

    orders, errors = at_once([check_out] * TWINS)

    assert errors == []
    assert len(orders) == TWINS
    assert len(set(orders)) == 1
    assert (Order.objects.count(), Invoice.objects.count()) == (1, 1)
    assert Order.objects.get().coupon.code == "LAST"

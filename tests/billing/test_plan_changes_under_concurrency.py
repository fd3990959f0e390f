"""Changing plan raced on PostgreSQL: an upgrade sent four times at once (a double click, two
tabs) makes one change and one invoice; a downgrade four times at once credits once."""

from decimal import Decimal

import pytest

from portal.billing.models import CreditEntry, Invoice, PlanChange, Subscription
from portal.billing.services.plan_changes import plan_change_start
from tests.billing.helpers import monthly_service_paid
from tests.concurrency import at_once
from tests.services import postgresql_or_skip

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sent_tasks"),
]


@pytest.fixture
def subscription(customer, product) -> Subscription:
    return monthly_service_paid(customer, product)


def switch(subscription, product, price: str):
    return lambda: plan_change_start(
        subscription=subscription, product=product, recurring_price=Decimal(price),
        description=f"{product.name} (monthly)", actor=None,
    ).pk  # fmt: skip


def test_an_upgrade_at_once_makes_one_change_and_one_invoice(subscription, product_for):
    postgresql_or_skip()
    big = product_for(name="VPN 500", download_mbps=500)

    made, errors = at_once([switch(subscription, big, "19.99")] * 4)

    assert errors == []
    assert len(set(made)) == 1
    assert PlanChange.objects.count() == 1
    assert Invoice.objects.filter(source_key__startswith="plan-change:").count() == 1


def test_a_downgrade_at_once_credits_once(subscription, product_for):
    postgresql_or_skip()
    small = product_for(name="VPN 10", download_mbps=10)

    made, errors = at_once([switch(subscription, small, "4.99")] * 4)

    assert errors == []
    assert len(set(made)) == 1
    assert CreditEntry.objects.count() == 1

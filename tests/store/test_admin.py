"""The shop in the admin: a plan with its prices per cycle; coupons; orders read-only."""

from decimal import Decimal

import pytest
from django.urls import reverse

from portal.store.models import Coupon, Plan

pytestmark = pytest.mark.django_db


def test_a_plan_is_put_on_sale_with_its_prices(admin_client, product):
    response = admin_client.post(
        reverse("admin:store_plan_add"),
        {
            "product": product.pk,
            "slug": "vpn-100",
            "description": "Fast.",
            "on_sale": "on",
            "position": "0",
            "prices-TOTAL_FORMS": "2",
            "prices-INITIAL_FORMS": "0",
            "prices-MIN_NUM_FORMS": "0",
            "prices-MAX_NUM_FORMS": "1000",
            "prices-0-cycle": "monthly",
            "prices-0-price": "9.99",
            "prices-0-setup_fee": "0",
            "prices-1-cycle": "annual",
            "prices-1-price": "99.00",
            "prices-1-setup_fee": "5.00",
        },
    )

    assert response.status_code == 302
    plan = Plan.objects.get()
    assert sorted(plan.prices.values_list("cycle", "price", "setup_fee")) == [
        ("annual", Decimal("99.00"), Decimal("5.00")),
        ("monthly", Decimal("9.99"), Decimal("0")),
    ]


def test_a_coupon_code_is_stored_in_upper_case(admin_client):
    admin_client.post(
        reverse("admin:store_coupon_add"),
        {"code": " spring ", "kind": "percent", "value": "15", "scope": "first", "active": "on"},
    )

    assert Coupon.objects.get().code == "SPRING"

"""The customer's orders in the API: My orders' items and invoice, only the customer's own."""

from decimal import Decimal

import pytest

from tests.api.test_tokens_and_errors import assert_error
from tests.billing.helpers import pay
from tests.factories import CouponFactory, OrderFactory, OrderItemFactory, PlanFactory
from tests.queries import page_queries

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/orders/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def order_of(product):
    """An order of ``customer``: one yearly item of the VPN 100 plan at 99.00 with a 5.00 setup
    fee, its invoice of ``total``."""
    plan = PlanFactory(product=product, slug="vpn-100")

    def make(customer, **fields):
        order = OrderFactory(customer=customer, total=Decimal("104.00"), **fields)
        OrderItemFactory(
            order=order, plan=plan, cycle="yearly", price=Decimal("99.00"),
            setup_fee=Decimal("5.00"),
        )  # fmt: skip
        return order

    return make


def test_an_order_shows_its_items_plan_cycle_amounts_and_invoice(
    owner_api, customer, product, order_of
):
    order = order_of(customer, coupon=CouponFactory(code="SAVE10"))

    body = owner_api.get(f"{ORDERS}{order.pk}/").json()

    assert (body["id"], body["status"], body["coupon"]) == (order.pk, "unpaid", "SAVE10")
    assert (body["invoice_id"], body["invoice_number"]) == (order.invoice_id, None)
    assert (body["currency"], body["subtotal"], body["total"]) == ("EUR", "104.00", "104.00")
    assert body["tax_amount"] == "0.00"
    assert body["items"] == [
        {
            "plan": {"id": order.items.get().plan_id, "slug": "vpn-100", "name": "VPN 100",
                     "product_id": product.pk},
            "cycle": "yearly", "quantity": 1, "price": "99.00", "setup_fee": "5.00",
        }
    ]  # fmt: skip
    assert "no-store" in owner_api.get(f"{ORDERS}{order.pk}/")["Cache-Control"]


def test_a_paid_order_is_paid_with_its_invoice_number(owner_api, customer, order_of):
    order = order_of(customer)
    pay(order.invoice, "bank-order")

    body = owner_api.get(f"{ORDERS}{order.pk}/").json()

    assert (body["status"], body["invoice_number"]) == ("paid", order.invoice.number)
    assert body["coupon"] is None


def test_the_list_shows_only_the_customers_own_orders_paged_and_filtered(
    owner_api, customer, other_customer, order_of
):
    unpaid = [order_of(customer) for _ in range(2)]
    paid = order_of(customer)
    pay(paid.invoice, "bank-list")
    order_of(other_customer)

    assert ids(owner_api.get(ORDERS)) == [paid.pk, unpaid[1].pk, unpaid[0].pk]
    assert ids(owner_api.get(ORDERS, {"page_size": 2, "page": 2})) == [unpaid[0].pk]
    assert ids(owner_api.get(ORDERS, {"status": "paid"})) == [paid.pk]
    assert ids(owner_api.get(ORDERS, {"status": "unpaid"})) == [unpaid[1].pk, unpaid[0].pk]
    error = assert_error(owner_api.get(ORDERS, {"status": "nonsense"}), 400, "invalid")
    assert "status" in error["fields"]


def test_another_customers_order_is_a_404(other_api, customer, order_of):
    order = order_of(customer)

    assert_error(other_api.get(f"{ORDERS}{order.pk}/"), 404, "not_found")


@pytest.mark.parametrize("url", [ORDERS, ORDERS + "{pk}/"])
def test_a_staff_user_without_a_customer_record_is_refused(staff_api, customer, order_of, url):
    order = order_of(customer)

    assert_error(staff_api.get(url.format(pk=order.pk)), 403, "permission_denied")


def test_the_list_costs_the_same_queries_for_one_order_or_many(
    owner_api, customer, product, order_of
):
    order_of(customer)
    one = page_queries(owner_api, ORDERS)

    for n in range(3):
        order = order_of(customer, coupon=CouponFactory())
        OrderItemFactory(order=order, plan=PlanFactory(slug=f"other-{n}"))

    assert page_queries(owner_api, ORDERS) == one

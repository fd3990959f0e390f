"""Staff's plans: the list (filtered, paginated, constant queries), one plan, putting a product
on sale, changing it and its prices, deleting a plan nobody ordered — audited in the admin's
history with who did it."""

from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

from portal.accounts.roles import BILLING
from portal.store.models import Order, OrderItem, Plan, PlanPrice
from tests.api.staff_helpers import staff_with_role, unpaid_invoice
from tests.factories import PlanFactory, PlanPriceFactory, ProductFactory
from tests.queries import page_queries

pytestmark = pytest.mark.django_db
PLANS = "/api/v1/staff/plans/"


@pytest.fixture
def billing_api(client_for):
    return client_for(staff_with_role(BILLING))


def test_the_list_shows_every_plan_with_its_prices_as_exact_strings(billing_api):
    price = PlanPriceFactory(price=Decimal("9.99"), setup_fee=Decimal("5"))
    PlanFactory(on_sale=False)

    body = billing_api.get(PLANS).json()

    assert body["count"] == 2
    shown = next(plan for plan in body["results"] if plan["id"] == price.plan_id)
    assert shown["prices"] == [{"cycle": "monthly", "price": "9.99", "setup_fee": "5.00"}]
    assert shown["name"] == price.plan.product.name


def test_the_list_filters_by_on_sale_and_pages(billing_api):
    on_sale = [PlanFactory().pk for _ in range(3)]
    PlanFactory(on_sale=False)

    first = billing_api.get(PLANS, {"on_sale": "true", "page_size": 2}).json()
    second = billing_api.get(first["next"]).json()

    assert first["count"] == 3
    assert [p["id"] for p in first["results"] + second["results"]] == on_sale


def test_the_list_costs_the_same_queries_for_one_plan_or_many(billing_api):
    PlanPriceFactory()
    one = page_queries(billing_api, PLANS)
    for _ in range(4):
        PlanPriceFactory(plan=PlanPriceFactory(cycle="annual").plan)

    assert page_queries(billing_api, PLANS) == one


def test_putting_a_product_on_sale_makes_the_plan_and_its_prices_and_audits_it(billing_api):
    product = ProductFactory()

    response = billing_api.post(
        PLANS,
        {
            "product_id": product.pk,
            "slug": "vpn-fast",
            "description": "Fast.",
            "prices": [
                {"cycle": "monthly", "price": "4.50"},
                {"cycle": "annual", "price": "45", "setup_fee": "1.99"},
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    plan = Plan.objects.get(product=product)
    assert response.json()["id"] == plan.pk
    assert sorted(plan.prices.values_list("cycle", "price", "setup_fee")) == [
        ("annual", Decimal("45.000"), Decimal("1.990")),
        ("monthly", Decimal("4.500"), Decimal("0.000")),
    ]
    entry = LogEntry.objects.get(object_id=str(plan.pk), content_type__model="plan")
    assert entry.action_flag == ADDITION
    assert entry.user.groups.get().name == BILLING


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "taken"}, "slug"),
        (
            {"prices": [{"cycle": "monthly", "price": "1"}, {"cycle": "monthly", "price": "2"}]},
            "prices",
        ),
        ({"prices": [{"cycle": "monthly", "price": "1.999"}]}, "prices"),
        ({"prices": [{"cycle": "monthly", "price": "-1"}]}, "prices"),
        ({"prices": [{"cycle": "weekly", "price": "1"}]}, "prices"),
    ],
)
def test_an_invalid_plan_is_refused_with_the_field_named(billing_api, change, field):
    PlanFactory(slug="taken")
    data = {"product_id": ProductFactory().pk, "slug": "new", "prices": [], **change}

    response = billing_api.post(PLANS, data, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Plan.objects.filter(slug="new").exists()


def test_a_product_already_on_sale_is_refused(billing_api):
    plan = PlanFactory()

    response = billing_api.post(
        PLANS, {"product_id": plan.product_id, "slug": "again", "prices": []}, format="json"
    )

    assert response.status_code == 400
    assert "product_id" in response.json()["error"]["fields"]


def test_changing_a_plan_replaces_its_prices_and_audits_what_changed(billing_api):
    monthly = PlanPriceFactory(price=Decimal("9.99"))
    plan = monthly.plan

    response = billing_api.patch(
        f"{PLANS}{plan.pk}/",
        {"on_sale": False, "prices": [{"cycle": "annual", "price": "99.00"}]},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["on_sale"] is False
    assert response.json()["prices"] == [{"cycle": "annual", "price": "99.00", "setup_fee": "0.00"}]
    assert list(plan.prices.values_list("cycle", flat=True)) == ["annual"]
    assert not PlanPrice.objects.filter(pk=monthly.pk).exists()
    entry = LogEntry.objects.get(object_id=str(plan.pk), content_type__model="plan")
    assert entry.action_flag == CHANGE
    assert entry.get_change_message() == "Changed on_sale and prices."


@pytest.mark.parametrize(
    "prices",
    [[{"cycle": "monthly"}], [{}], [{"price": "5.00"}], [{"cycle": "annual", "price": "5"}, {}]],
)
def test_a_change_with_an_incomplete_price_is_refused(billing_api, prices):
    price = PlanPriceFactory(price=Decimal("9.99"))

    response = billing_api.patch(f"{PLANS}{price.plan_id}/", {"prices": prices}, format="json")

    assert response.status_code == 400, response.content
    assert "prices" in response.json()["error"]["fields"]
    assert list(price.plan.prices.values_list("cycle", "price")) == [("monthly", Decimal("9.99"))]
    assert not LogEntry.objects.exists()


def test_a_changed_price_without_a_setup_fee_has_none(billing_api):
    price = PlanPriceFactory(setup_fee=Decimal("5"))
    prices = [{"cycle": "monthly", "price": "5.00"}]

    response = billing_api.patch(f"{PLANS}{price.plan_id}/", {"prices": prices}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["prices"] == [{"cycle": "monthly", "price": "5.00", "setup_fee": "0.00"}]


def test_a_change_that_changes_nothing_writes_no_history(billing_api):
    plan = PlanPriceFactory().plan

    response = billing_api.patch(f"{PLANS}{plan.pk}/", {"slug": plan.slug}, format="json")

    assert response.status_code == 200
    assert not LogEntry.objects.exists()


def test_a_plan_nobody_ordered_is_deleted(billing_api):
    plan = PlanPriceFactory().plan

    assert billing_api.delete(f"{PLANS}{plan.pk}/").status_code == 204

    assert not Plan.objects.filter(pk=plan.pk).exists()
    assert LogEntry.objects.get().action_flag == DELETION


def test_an_ordered_plan_is_not_deleted(billing_api, customer, product):
    price = PlanPriceFactory()
    order = Order.objects.create(customer=customer, invoice=unpaid_invoice(customer, product))
    OrderItem.objects.create(order=order, plan=price.plan, cycle="monthly", price=price.price)

    response = billing_api.delete(f"{PLANS}{price.plan_id}/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "plan_refused"
    assert Plan.objects.filter(pk=price.plan_id).exists()
    assert not LogEntry.objects.exists()


def test_an_unknown_plan_is_a_404_with_the_error_body(billing_api):
    response = billing_api.get(f"{PLANS}999/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"

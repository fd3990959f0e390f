"""Amounts the API takes are amounts the columns hold (numeric(14, 3): 11 whole digits): a
larger one is a 400 naming the field, never the database's error (PostgreSQL refuses it; SQLite
would store it). Runs on both databases, as CI does."""

from decimal import Decimal

import pytest

from portal.accounts.roles import BILLING
from portal.billing.models import Payment
from portal.store.models import Plan, PlanPrice
from tests.api.staff_helpers import staff_with_role, unpaid_invoice
from tests.factories import PlanPriceFactory, ProductFactory

pytestmark = pytest.mark.django_db
PLANS = "/api/v1/staff/plans/"
PAYMENTS = "/api/v1/staff/payments/"
TOO_LARGE = ["99999999999999", "100000000000", "100000000000.00"]
LARGEST = "99999999999.99"


@pytest.fixture
def billing_api(client_for):
    return client_for(staff_with_role(BILLING))


def plan_with(price: str) -> dict:
    prices = [{"cycle": "monthly", "price": price}]
    return {"product_id": ProductFactory().pk, "slug": "big", "prices": prices}


@pytest.mark.parametrize("amount", TOO_LARGE)
def test_a_plan_priced_beyond_the_columns_is_refused(billing_api, amount):
    response = billing_api.post(PLANS, plan_with(amount), format="json")

    assert response.status_code == 400, response.content
    assert "11 digits" in str(response.json()["error"]["fields"]["prices"])
    assert not Plan.objects.filter(slug="big").exists()


@pytest.mark.parametrize("amount", TOO_LARGE)
def test_a_plan_changed_to_a_price_beyond_the_columns_is_refused(billing_api, amount):
    price = PlanPriceFactory(price=Decimal("9.99"))
    prices = [{"cycle": "monthly", "price": "1", "setup_fee": amount}]

    response = billing_api.patch(f"{PLANS}{price.plan_id}/", {"prices": prices}, format="json")

    assert response.status_code == 400, response.content
    assert PlanPrice.objects.get(pk=price.pk).price == Decimal("9.99")


@pytest.mark.parametrize("amount", TOO_LARGE)
def test_a_payment_beyond_the_columns_is_refused(billing_api, customer, product, amount):
    invoice = unpaid_invoice(customer, product)
    data = {"invoice_id": invoice.pk, "amount": amount, "reference": "huge-1"}

    response = billing_api.post(PAYMENTS, data, format="json")

    assert response.status_code == 400, response.content
    assert "amount" in response.json()["error"]["fields"]
    assert not Payment.objects.exists()


def test_the_largest_amount_the_columns_hold_is_stored_exactly(billing_api):
    response = billing_api.post(PLANS, plan_with(LARGEST), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["prices"][0]["price"] == LARGEST
    assert Plan.objects.get(slug="big").prices.get().price == Decimal(LARGEST)

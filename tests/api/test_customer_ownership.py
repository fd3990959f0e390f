"""Another customer's objects, walked over every customer URL that takes an object's id: each
answers 404 with the error body, as an object that does not exist, and changes nothing. A staff
user without a customer record is refused every customer URL."""

import pytest
from django.apps import apps

from portal.accounts.models import ApiToken
from provisioning.models import ServiceStatus
from tests.api.customer_urls import customer_routes, fill, request_data, takes_an_object
from tests.api.staff_helpers import unpaid_invoice
from tests.api.test_tokens_and_errors import assert_error
from tests.factories import OrderItemFactory, PlanFactory

pytestmark = pytest.mark.django_db

ROUTES = customer_routes()
OBJECT_ROUTES = [(method, route) for method, route in ROUTES if takes_an_object(route)]


@pytest.fixture(autouse=True)
def _no_throttling(settings):
    settings.API_THROTTLE_RATES = {"user": "100000/min", "anon": "100000/min"}


@pytest.fixture
def owners_objects(service_factory, customer, product) -> dict[str, int]:
    """The owner's object of each resource a customer URL names by id."""
    return {
        "services": service_factory(status=ServiceStatus.ACTIVE).pk,
        "invoices": unpaid_invoice(customer, product).pk,
        "orders": OrderItemFactory(
            order__customer=customer, plan=PlanFactory(product=product)
        ).order.pk,
    }


def every_row() -> dict[str, list[dict]]:
    """Every table's rows but the API tokens' (each call notes when its token was last used)."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for model in apps.get_models()
        if model is not ApiToken
    }


def call(client, method: str, route: str, objects: dict[str, int]):
    url, data = fill(route, objects), request_data(method, route)
    if method == "get":
        return client.get(url, data)
    return getattr(client, method)(url, data, format="json")


def test_the_walk_finds_the_customer_urls():
    routes = {route for _, route in ROUTES}
    assert len(routes) == 14
    assert {route.split("/")[0] for _, route in OBJECT_ROUTES} == {"services", "invoices", "orders"}
    assert ("put", "services/<int:pk>/usage-alert/") in OBJECT_ROUTES
    assert ("post", "services/<int:pk>/one-time-link/") in OBJECT_ROUTES


@pytest.mark.parametrize(("method", "route"), OBJECT_ROUTES)
def test_another_customers_object_is_a_404_that_changes_nothing(
    other_api, owners_objects, method, route
):
    before = every_row()

    response = call(other_api, method, route, owners_objects)

    assert_error(response, 404, "not_found")
    assert every_row() == before


@pytest.mark.parametrize(("method", "route"), OBJECT_ROUTES)
def test_the_owner_is_not_refused_the_same_url(owner_api, owners_objects, method, route):
    """The 404 above is the ownership check's: the owner asking the same is not a 404."""
    response = call(owner_api, method, route, owners_objects)

    assert response.status_code != 404, response.content


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_a_staff_user_without_a_customer_record_is_refused(
    staff_api, owners_objects, method, route
):
    assert_error(call(staff_api, method, route, owners_objects), 403, "permission_denied")

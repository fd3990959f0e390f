"""A page view never waits on the licence server: with one configured, checkout, the admin's
Add service, the product's page and the banner read the recorded result or verify the key
offline (local), and nobody calls the server."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import responses
from django.urls import reverse

from licensing.status import record_licence_check
from portal.store.models import Order
from provisioning.models import Service
from tests.factories import PlanFactory, PlanPriceFactory, ProductFactory
from tests.licensing.conftest import SERVER_URL
from tests.store.shopping import add, check_out

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("licensing")]


@pytest.fixture
def licence_server():
    """The configured licence server, answering "valid" to anyone who asks (nobody should)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.post(SERVER_URL, json={"valid": True, "products": ["*"]})
        yield mocked


def server_calls(server: responses.RequestsMock) -> list[str]:
    return [call.request.url for call in server.calls if call.request.url == SERVER_URL]


@pytest.fixture
def unchecked(sign):
    """A product whose key the offline verification refuses (another product's), and no result
    recorded: asking the server would have said "valid"."""
    return ProductFactory(name="Unchecked", license_key=sign(products=("999999",)))


def test_checkout_refuses_from_the_offline_verification_without_asking(
    licence_server, signed_in, unchecked, simulator, server_for, server_group
):
    """The plan has room on the live simulator (its panel calls pass through the mock)."""
    licence_server.add_passthru(simulator.url)
    unchecked.group = server_group
    unchecked.settings = {
        "deploy_targets": [{"server_id": server_for(simulator).pk, "network": "office"}]
    }
    unchecked.save()
    plan = PlanFactory(product=unchecked, slug="vpn-100")
    PlanPriceFactory(plan=plan, cycle="monthly", price=Decimal("9.99"))
    add(signed_in)

    response = check_out(signed_in)

    assert f"{plan.name} cannot be ordered just now, so nothing was ordered." in response.text
    assert not Order.objects.exists()
    assert server_calls(licence_server) == []


def test_admin_add_service_refuses_without_asking(
    licence_server, admin_client, customer, unchecked
):
    response = admin_client.post(
        reverse("admin:provisioning_service_add"),
        {"customer": customer.pk, "product": unchecked.pk, "request_key": uuid.uuid4()},
    )

    assert f"New services of {unchecked} are refused" in response.text
    assert not Service.objects.exists()
    assert server_calls(licence_server) == []


def test_the_product_page_and_the_banner_read_the_recorded_results_without_asking(
    licence_server, admin_client, unchecked, sign
):
    revoked = ProductFactory(name="Revoked", license_key=sign(products=("*",)))
    record_licence_check(
        revoked.pk, key=revoked.license_key, error="The licence was revoked.", valid_for=600
    )

    product_page = admin_client.get(
        reverse("admin:provisioning_product_change", args=[unchecked.pk])
    )
    index = admin_client.get(reverse("admin:index"))

    assert "not checked yet" in product_page.text
    assert 'id="licence-alert"' in index.text
    assert "The licence was revoked." in index.text
    assert server_calls(licence_server) == []

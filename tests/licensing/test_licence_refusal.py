"""A product whose licence check failed takes no new services: a paid order's create is refused
before any panel call (failed, the reason for the admin, nothing for the customer to read into);
the store's checkout and the admin's Add service refuse before anything is made. Services already
set up keep working, and a product without a key is not enforced.

The worker's step runs in-process against the live simulator, so every panel call is the test's
to see; the licence server is not configured, so every check is offline."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from licensing.status import licence_status_row, record_licence_check
from portal.billing.services import LineSpec, invoice_create
from portal.store.models import Order
from provisioning import services
from provisioning.models import Service, ServiceAction, ServiceStatus
from tests.billing.helpers import pay
from tests.factories import PlanFactory, PlanPriceFactory
from tests.licensing.conftest import tampered
from tests.store.shopping import add, check_out
from vpnpanel import PanelClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("licensing")]

API = "/api/v1/"


@pytest.fixture(autouse=True)
def offline(licensing):
    licensing.LICENSING_SERVER_URL = ""


@pytest.fixture
def office(simulator, server_for, product_for):
    """A product on the simulator's office network, with no licence key yet."""
    return product_for((server_for(simulator), "office"), download_mbps=30, upload_mbps=3)


def set_key(product, key: str) -> None:
    product.license_key = key
    product.save(update_fields=["license_key"])


def panel_calls(simulator) -> list[tuple[str, str]]:
    return [
        (call["method"], call["path"].removeprefix(API)) for call in simulator.knob("GET", "calls")
    ]


def run(service: Service) -> Service:
    services.service_run_pending_action(service_id=service.pk)
    service.refresh_from_db()
    return service


def paid_order(customer, product, sent_tasks) -> Service:
    """The product ordered monthly and paid by bank transfer, as billing does it; the worker's
    message is caught (the test runs the worker's step itself)."""
    line = LineSpec(
        description="VPN (monthly)", unit_price=Decimal("9.99"), product=product, cycle="monthly"
    )
    pay(invoice_create(customer=customer, lines=[line], actor=None), "bank-licence")
    service = Service.objects.get(customer=customer, product=product)
    assert sent_tasks.named("provisioning.run_pending_action") == [(service.pk,)]
    return service


def test_a_paid_order_of_a_product_with_an_invalid_licence_is_refused_before_any_panel_call(
    simulator, customer, office, sign, sent_tasks, admin_client, signed_in
):
    set_key(office, tampered(sign(products=(str(office.pk),))))
    service = paid_order(customer, office, sent_tasks)
    simulator.knob("POST", "calls/reset")

    service = run(service)

    assert panel_calls(simulator) == []
    assert service.status == ServiceStatus.FAILED
    assert (service.remote_name, service.server, service.needs_attention) == ("", None, False)
    assert service.last_error.startswith(f"Not set up: the licence check of product “{office}”")
    assert "signature" in service.last_error
    assert "signature" in licence_status_row(
        office.pk, office.license_key
    )  # the worker's check was recorded
    admin_page = admin_client.get(reverse("admin:provisioning_service_change", args=[service.pk]))
    assert "Fix the product&#x27;s licence key, then retry this service." in admin_page.text
    assert 'id="licence-error"' in admin_page.text
    customer_page = signed_in.get(f"/services/{service.pk}/").text
    assert "licen" not in customer_page.lower()


def test_once_the_licence_is_fixed_a_retry_sets_the_service_up(
    simulator, customer, office, sign, sent_tasks
):
    set_key(office, tampered(sign(products=(str(office.pk),))))
    service = run(paid_order(customer, office, sent_tasks))
    assert service.status == ServiceStatus.FAILED

    set_key(office, sign(products=(str(office.pk),)))
    record_licence_check(
        office.pk, key=office.license_key, valid_for=60
    )  # the background check's next round
    services.service_retry(service=service, actor=None, reason="licence fixed")
    service = run(service)

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert ("POST", "client") in panel_calls(simulator)


def test_a_valid_licence_with_nothing_recorded_is_checked_by_the_worker_then_set_up(
    simulator, customer, office, sign, sent_tasks
):
    set_key(office, sign(products=(str(office.pk),)))

    service = run(paid_order(customer, office, sent_tasks))

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert licence_status_row(office.pk, office.license_key).startswith("success: ")


def test_a_product_without_a_key_is_not_enforced(simulator, customer, office, sent_tasks):
    service = run(paid_order(customer, office, sent_tasks))

    assert service.status == ServiceStatus.ACTIVE, service.last_error


def test_existing_services_keep_working_on_the_panel(simulator, customer, office, sign, sent_tasks):
    panel = PanelClient(simulator.url, simulator.token)
    service = run(paid_order(customer, office, sent_tasks))
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    set_key(office, sign(products=(str(office.pk),), licensee="Lapsed Ltd"))
    record_licence_check(
        office.pk, key=office.license_key, error="The licence was revoked.", valid_for=600
    )

    for action, status, enabled in (
        (ServiceAction.SUSPEND, ServiceStatus.SUSPENDED, False),
        (ServiceAction.UNSUSPEND, ServiceStatus.ACTIVE, True),
    ):
        services.service_request_action(service=service, action=action, actor=None, reason="t")
        service = run(service)
        assert service.status == status, service.last_error
        assert panel.get_client(service.remote_name).is_enabled is enabled


def test_checkout_refuses_a_plan_whose_licence_failed_and_orders_nothing(
    client, signed_in, office, sign
):
    plan = PlanFactory(product=office, slug="vpn-100")
    PlanPriceFactory(plan=plan, cycle="monthly", price=Decimal("9.99"))
    set_key(office, sign(products=(str(office.pk),)))
    record_licence_check(
        office.pk, key=office.license_key, error="The licence was revoked.", valid_for=600
    )
    add(signed_in)

    response = check_out(signed_in)

    assert response.status_code == 200
    assert f"{plan.name} cannot be ordered just now, so nothing was ordered." in response.text
    assert "revoked" not in response.text
    assert not Order.objects.exists()


def test_admin_add_service_refuses_a_product_whose_licence_fails_offline(
    admin_client, customer, office, sign
):
    """Nothing recorded yet: the page verifies the key offline (local) rather than wait."""
    set_key(office, sign(products=("999999",)))

    response = admin_client.post(
        reverse("admin:provisioning_service_add"),
        {"customer": customer.pk, "product": office.pk, "request_key": uuid.uuid4()},
    )

    assert response.status_code == 200
    assert f"New services of {office} are refused: its licence check failed:" in response.text
    assert "does not cover this product" in response.text
    assert not Service.objects.exists()

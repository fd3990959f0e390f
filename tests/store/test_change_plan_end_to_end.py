"""The change-of-plan acceptance test with every real part and the real clock: a VPN 100
service set up by the session's Celery worker on the simulator, the customer switches to
VPN 500 on the page, pays the invoice, and the worker — sent its task by the payment — moves
the client's bandwidth on the panel to VPN 500's."""

from decimal import Decimal

import pytest
from django.urls import reverse

from portal.billing.models import PlanChange, PlanChangeStatus, Subscription
from portal.billing.services import LineSpec, invoice_create
from provisioning.models import Server, ServiceStatus
from tests.billing.helpers import pay
from tests.factories import PlanFactory, PlanPriceFactory
from tests.provisioning.conftest import settled, wait_for_service
from vpnpanel import PanelClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("private_cache")]


def bandwidth_on_panel(simulator, remote_name: str) -> tuple[int, int]:
    [client] = [
        client
        for client in PanelClient(simulator.url, simulator.token).clients()
        if client.name == remote_name
    ]
    return client.b_download, client.b_upload


def test_an_upgrade_paid_is_carried_to_the_panel_by_the_worker(
    live_worker, signed_in, customer, shop_plan, product_for, simulator
):
    big = PlanFactory(
        product=product_for(
            (Server.objects.get(), "office"), name="VPN 500", download_mbps=500, upload_mbps=200
        ),
        slug="vpn-500",
    )
    PlanPriceFactory(plan=big, cycle="monthly", price=Decimal("19.99"))
    line = LineSpec(
        description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=shop_plan.product,
        cycle="monthly",
    )  # fmt: skip
    pay(invoice_create(customer=customer, lines=[line], actor=None), "bank-order")
    subscription = Subscription.objects.select_related("service").get(customer=customer)
    service = wait_for_service(subscription.service, settled)
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert bandwidth_on_panel(simulator, service.remote_name) == (100, 50)

    response = signed_in.post(reverse("store:change_plan", args=[service.pk]), {"plan": big.pk})
    change = PlanChange.objects.get()
    assert response["Location"] == reverse("billing:invoice_detail", args=[change.invoice_id])
    pay(change.invoice, "bank-upgrade")

    service = wait_for_service(service, lambda s: s.product_id == big.product_id and settled(s))
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert bandwidth_on_panel(simulator, service.remote_name) == (500, 200)
    change.refresh_from_db()
    assert change.status == PlanChangeStatus.APPLIED

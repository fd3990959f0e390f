"""The staff API's lifecycle actions end to end: API request → real Celery worker → live panel
simulator. A repeated action answers 202 again and reaches the panel once."""

import pytest

from provisioning.models import ModuleLogEntry, ServiceEvent, ServiceStatus
from tests.factories import order_service
from tests.provisioning.conftest import settled, wait_for_service
from vpnpanel import PanelClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_suspend_and_unsuspend_reach_the_panel_once_however_often_asked(
    live_worker, simulator, customer, server_for, product_for, staff_api
):
    panel = PanelClient(simulator.url, simulator.token)
    product = product_for((server_for(simulator), "office"), download_mbps=10)
    service = wait_for_service(order_service(customer, product), settled)
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    url = f"/api/v1/staff/services/{service.pk}"

    first = staff_api.post(f"{url}/suspend/", {"reason": "abuse report"}, format="json")
    service = wait_for_service(service, settled)
    again = staff_api.post(f"{url}/suspend/", {}, format="json")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["status"] == "suspended"
    assert service.status == ServiceStatus.SUSPENDED
    assert not panel.get_client(service.remote_name).is_enabled
    assert ServiceEvent.objects.filter(service=service, action="suspend_requested").count() == 1
    writes = ModuleLogEntry.objects.filter(service=service, action="suspend", method="PUT")
    assert writes.count() == 1

    assert staff_api.post(f"{url}/unsuspend/", {}, format="json").status_code == 202
    service = wait_for_service(service, settled)

    assert service.status == ServiceStatus.ACTIVE
    assert panel.get_client(service.remote_name).is_enabled

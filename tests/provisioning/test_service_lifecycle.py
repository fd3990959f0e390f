"""Every lifecycle action end to end: web-side request → real Celery worker → live simulator."""

import pytest

from provisioning import services
from provisioning.models import ModuleLogEntry, ServiceAction, ServiceStatus
from tests.factories import order_service
from tests.provisioning.conftest import settled, wait_for_service

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_provisions_a_capped_client_and_activates_the_service(
    live_worker, simulator, panel, customer, server_for, product_for
):
    server = server_for(simulator)
    product = product_for((server, "office"), download_mbps=100, upload_mbps=20)

    service = order_service(customer, product)
    service = wait_for_service(service, settled)

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    client = panel.get_client(service.remote_name)
    assert (client.network_name, client.b_download, client.b_upload) == ("office", 100, 20)
    assert service.server == server
    assert service.remote_name.startswith(f"vpn-{customer.pk}-{service.pk}-")
    assert [e.action for e in service.events.order_by("created_at", "id")] == [
        "created",
        "provisioning_started",
        "provisioned",
    ]
    calls = list(ModuleLogEntry.objects.filter(service=service).values_list("method", "path"))
    assert ("POST", "client") in calls
    assert ("PUT", f"client/{service.remote_name}") in calls


def test_suspend_unsuspend_change_package_and_terminate_reach_the_panel(
    live_worker, simulator, panel, customer, server_for, product_for
):
    server = server_for(simulator)
    small = product_for((server, "office"), download_mbps=10, upload_mbps=5)
    large = product_for((server, "office"), name="VPN 500", download_mbps=500, upload_mbps=100)
    service = wait_for_service(order_service(customer, small), settled)

    def run(action, **kwargs):
        services.service_request_action(
            service=service, actor=None, reason="test", action=action, **kwargs
        )
        return wait_for_service(service, settled)

    assert run(ServiceAction.SUSPEND).status == ServiceStatus.SUSPENDED
    assert not panel.get_client(service.remote_name).is_enabled
    assert run(ServiceAction.UNSUSPEND).status == ServiceStatus.ACTIVE
    assert panel.get_client(service.remote_name).is_enabled
    assert run(ServiceAction.CHANGE_PACKAGE, product=large).product == large
    capped = panel.get_client(service.remote_name)
    assert (capped.b_download, capped.b_upload) == (500, 100)
    assert run(ServiceAction.TERMINATE).status == ServiceStatus.TERMINATED
    assert service.remote_name not in [client.name for client in panel.clients()]


def test_module_log_holds_no_token_and_no_client_secrets(
    live_worker, simulator, panel, customer, server_for, product_for
):
    product = product_for((server_for(simulator), "office"))
    service = wait_for_service(order_service(customer, product), settled)
    client = panel.get_client(service.remote_name)

    rows = list(ModuleLogEntry.objects.values())
    stored = repr(rows)

    assert len(rows) >= 4
    assert simulator.token not in stored
    assert client.password not in stored
    assert "***" in stored

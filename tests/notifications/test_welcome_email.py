"""The welcome email: once per service when it first becomes active, with the plan, the VPN client
name, the protocols of its network and the client-area link; never a password, key or config."""

import re

import pytest
from django.core import mail

from portal.notifications import payload
from portal.notifications.models import EmailRecord
from portal.notifications.welcome import welcome_email_send
from provisioning.models import ModuleLogEntry, Service, ServiceStatus
from provisioning.signals import service_activated
from tests.factories import ServiceFactory, order_service
from tests.notifications.helpers import mail_files_with, wait_for_email
from tests.provisioning.conftest import settled, wait_for_service

pytestmark = pytest.mark.django_db(transaction=True)

WELCOME_TASK = "notifications.send_welcome_email"


def test_an_ordered_service_gets_one_welcome_email_with_plan_client_protocols_and_link(
    live_worker, simulator, panel, customer, server_for, product_for
):
    server = server_for(simulator)
    product = product_for((server, "office"), name="VPN 100", download_mbps=100)

    service = wait_for_service(order_service(customer, product), settled)
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    record = wait_for_email(kind="welcome", object_id=str(service.pk))

    assert (record.status, record.to) == ("sent", "alice@example.com")
    assert (record.object_type, record.once_key) == (
        "provisioning.service",
        f"welcome:service:{service.pk}",
    )
    text = payload.text_body(record.message)
    assert "Plan: VPN 100" in text
    assert f"VPN client name: {service.remote_name}" in text
    assert "Protocols: WireGuard, OpenVPN, IKEv2" in text
    assert f"http://127.0.0.1:8000/services/{service.pk}/" in text
    [delivered] = mail_files_with(service.remote_name)
    client = panel.get_client(service.remote_name)
    private_key = re.search(r"PrivateKey\s*=\s*(\S+)", panel.wireguard_config(client.name))[1]
    for secret in (client.password, private_key):
        assert secret not in record.message
        assert secret not in delivered
    assert EmailRecord.objects.filter(kind="welcome").count() == 1


def test_the_welcome_email_goes_out_once_when_activation_is_announced_twice(
    eager_tasks, simulator, customer, server_for, product_for
):
    server = server_for(simulator)
    service = on_panel(customer, server, product_for((server, "office"), name="VPN 100"))
    simulator.knob("POST", "calls/reset")

    service_activated.send(sender=Service, service_id=service.pk)
    service_activated.send(sender=Service, service_id=service.pk)

    [record] = EmailRecord.objects.filter(kind="welcome")
    assert record.status == "sent"
    assert [m.subject for m in mail.outbox] == ["Your VPN is ready: VPN 100"]
    network_reads = [
        c for c in simulator.knob("GET", "calls") if c["path"].endswith("network/office")
    ]
    assert len(network_reads) == 1


def test_activation_only_queues_the_welcome_task_by_name_with_the_service_id(sent_tasks, db):
    service_activated.send(sender=Service, service_id=41)

    assert sent_tasks.named(WELCOME_TASK) == [(41,)]
    assert not EmailRecord.objects.exists()


def test_without_the_panel_the_welcome_email_says_where_to_see_the_protocols(
    sent_tasks, customer, product
):
    service = ServiceFactory(on_panel=True, customer=customer, product=product, network="office")

    assert welcome_email_send(service_id=service.pk)

    text = payload.text_body(EmailRecord.objects.get(kind="welcome").message)
    assert "Protocols: see your service page" in text
    assert f"VPN client name: {service.remote_name}" in text
    assert ModuleLogEntry.objects.filter(service=service, action="welcome_email").exists()


@pytest.mark.parametrize("status", [ServiceStatus.PENDING, ServiceStatus.TERMINATED])
def test_a_service_never_active_or_terminated_gets_no_welcome_email(
    sent_tasks, customer, product, status
):
    service = ServiceFactory(customer=customer, product=product, status=status)

    assert not welcome_email_send(service_id=service.pk)
    assert not welcome_email_send(service_id=service.pk + 1000)  # gone
    assert not EmailRecord.objects.exists()


def on_panel(customer, server, product) -> Service:
    """An active service whose client is on ``server``'s panel, in the network ``office``."""
    return ServiceFactory(
        on_panel=True, customer=customer, product=product, server=server, network="office"
    )

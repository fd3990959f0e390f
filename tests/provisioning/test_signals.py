"""What provisioning announces: ``service_activated`` once, after the commit that made a service
active for the first time (not on an unsuspend), with its id; a failing listener changes nothing."""

import pytest
from django.utils import timezone

from provisioning import services
from provisioning.models import ServiceAction, ServiceStatus
from provisioning.signals import service_activated
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def announced():
    heard: list[int] = []

    def listener(sender, service_id, **kwargs):
        heard.append(service_id)

    def broken(sender, service_id, **kwargs):
        raise RuntimeError("a listener that fails")

    service_activated.connect(listener)
    service_activated.connect(broken)
    yield heard
    service_activated.disconnect(listener)
    service_activated.disconnect(broken)


def test_the_first_activation_is_announced_once_and_an_unsuspend_is_not(
    announced, simulator, customer, server_for, product_for
):
    server = server_for(simulator)
    now = timezone.now()
    service = ServiceFactory(
        customer=customer,
        product=product_for((server, "office")),
        pending_action=ServiceAction.CREATE,
        action_requested_at=now,
        action_due_at=now,
    )

    services.service_run_pending_action(service_id=service.pk)
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert announced == [service.pk]

    services.service_suspend(service=service, actor=None, reason="test")
    services.service_run_pending_action(service_id=service.pk)
    services.service_unsuspend(service=service, actor=None, reason="test")
    services.service_run_pending_action(service_id=service.pk)
    service.refresh_from_db()

    assert service.status == ServiceStatus.ACTIVE
    assert announced == [service.pk]

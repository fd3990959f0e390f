"""A lifecycle change drops the panel's cached live status: a client suspended a second ago is
not shown online for the rest of the poll interval."""

import pytest
from django.core.cache import cache
from django.utils import timezone

from provisioning import services
from provisioning.live import cache_keys, service_connection_status
from provisioning.models import ServiceStatus
from tests.factories import ServiceFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("private_cache")]


@pytest.fixture
def online_service(simulator, server_for, product_for, settings):
    settings.CLIENT_AREA_POLL_SECONDS = 60  # the cached answer would hold for the whole test
    server = server_for(simulator)
    simulator.knob("POST", "clients", {"name": "vpn-live", "network_name": "office"})
    simulator.knob("POST", "clients/vpn-live/session", {"online": True, "protocol": "wireguard"})
    return ServiceFactory(
        product=product_for((server, "office")),
        server=server,
        network="office",
        remote_name="vpn-live",
        status=ServiceStatus.ACTIVE,
        create_posted_at=timezone.now(),
    )


@pytest.mark.parametrize(
    ("verb", "after"),
    [
        (services.service_suspend, ServiceStatus.SUSPENDED),
        (services.service_terminate, ServiceStatus.TERMINATED),
    ],
)
def test_suspend_and_terminate_drop_the_cached_online_answer(online_service, verb, after):
    service = online_service
    assert service_connection_status(service).online is True
    assert cache.get(cache_keys(service.server).answer) is not None

    verb(service=service, actor=None, reason="overdue")
    services.service_run_pending_action(service_id=service.pk)

    service.refresh_from_db()
    assert service.status == after, service.last_error
    keys = cache_keys(service.server)
    assert (cache.get(keys.answer), cache.get(keys.last)) == (None, None)
    if after == ServiceStatus.SUSPENDED:
        assert service_connection_status(service).online is False  # asked again: disabled

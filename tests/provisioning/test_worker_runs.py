"""The worker's run of a pending action, called in-process so each step is the test's to make.

These cover what a single run decides: claiming, backoff due times, the retry budget on the row,
parking unexpected errors, adopting a client whose create an earlier run posted.
"""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from provisioning import services
from provisioning.models import Service, ServiceAction, ServiceStatus
from provisioning.services import runner
from tests.factories import ServiceFactory
from vpnpanel import PanelClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def office(simulator, server_for, product_for):
    server = server_for(simulator)
    return server, product_for((server, "office"), download_mbps=30, upload_mbps=3)


def _pending(customer, product, action=ServiceAction.CREATE, **fields) -> Service:
    now = timezone.now()
    return ServiceFactory(
        customer=customer,
        product=product,
        pending_action=action,
        action_requested_at=now,
        action_due_at=now,
        **fields,
    )


def _make_due(service: Service) -> None:
    Service.objects.filter(pk=service.pk).update(action_due_at=timezone.now())


def test_retry_budget_is_counted_on_the_row_across_duplicate_messages(simulator, customer, office):
    _, product = office
    service = _pending(customer, product)
    simulator.stop()

    with pytest.raises(services.ProvisioningRetry) as first:
        services.service_run_pending_action(service_id=service.pk)
    Service.objects.filter(pk=service.pk).update(
        action_due_at=timezone.now() + timedelta(minutes=5)
    )
    services.service_run_pending_action(service_id=service.pk)  # a duplicate, not yet due
    service.refresh_from_db()
    attempts_after_duplicate = service.action_attempts
    _make_due(service)
    with pytest.raises(services.ProvisioningRetry):
        services.service_run_pending_action(service_id=service.pk)
    _make_due(service)
    services.service_run_pending_action(service_id=service.pk)

    service.refresh_from_db()
    assert first.value.countdown > 0
    assert attempts_after_duplicate == 1
    assert service.status == ServiceStatus.FAILED
    assert service.action_attempts == 3
    assert service.last_error.startswith("Gave up after 3 attempts")


def test_a_retry_due_later_is_not_swept_early(simulator, customer, office):
    _, product = office
    service = _pending(customer, product)
    simulator.stop()
    with pytest.raises(services.ProvisioningRetry):
        services.service_run_pending_action(service_id=service.pk)
    Service.objects.filter(pk=service.pk).update(
        action_due_at=timezone.now() + timedelta(minutes=5)
    )

    assert services.services_requeue_stale(older_than=timedelta(0)) == 0


def test_an_unexpected_error_parks_the_action_visibly_instead_of_holding_the_lease(
    customer, office
):
    _, product = office
    type(product).objects.filter(pk=product.pk).update(settings={"colour": "blue"})
    service = _pending(customer, product)

    services.service_run_pending_action(service_id=service.pk)

    service.refresh_from_db()
    assert service.status == ServiceStatus.FAILED
    assert service.action_token is None
    assert service.action_parked
    assert service.last_error.startswith("Unexpected error (ValidationError)")


def test_name_in_use_after_an_earlier_run_posted_it_here_is_adopted_not_renamed(
    simulator, panel, customer, office
):
    server, product = office
    earlier = panel.create_client(network_name="office", name="vpn-earlier")
    service = _pending(
        customer,
        product,
        status=ServiceStatus.PROVISIONING,
        server=server,
        network="office",
        remote_name=earlier.name,
        create_posted_at=timezone.now() - timedelta(minutes=20),
    )
    lookup_misses = {"method": "GET", "path": "^client/vpn-earlier$", "count": 1, "status": 404}
    simulator.knob("POST", "faults", {"rules": [{**lookup_misses, "message": "Account not found"}]})

    services.service_run_pending_action(service_id=service.pk)

    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert service.remote_name == "vpn-earlier"
    assert [client.name for client in panel.clients()] == ["vpn-earlier"]
    assert panel.get_client("vpn-earlier").b_download == 30


def test_terminate_never_deletes_a_name_this_service_never_posted(panel, customer, office):
    server, product = office
    panel.create_client(network_name="office", name="someone-else")
    service = _pending(
        customer,
        product,
        ServiceAction.TERMINATE,
        status=ServiceStatus.FAILED,
        server=server,
        remote_name="someone-else",
    )

    services.service_run_pending_action(service_id=service.pk)

    service.refresh_from_db()
    assert service.status == ServiceStatus.TERMINATED
    assert [client.name for client in panel.clients()] == ["someone-else"]


def test_replacing_a_parked_change_of_package_keeps_the_old_product(
    customer, office, product_for, sent_tasks
):
    """(``sent_tasks`` keeps the queued suspend from the session's worker, which would run it
    while the test's tables are truncated.)"""
    server, product = office
    bigger = product_for((server, "office"), name="VPN 900", download_mbps=900)
    service = _pending(
        customer,
        product,
        ServiceAction.CHANGE_PACKAGE,
        status=ServiceStatus.ACTIVE,
        pending_product=bigger,
        action_failed_at=timezone.now(),
    )

    services.service_request_action(
        service=service, actor=None, reason="overdue", action=ServiceAction.SUSPEND
    )

    service.refresh_from_db()
    assert (service.product, service.pending_product) == (product, None)
    assert service.pending_action == ServiceAction.SUSPEND
    event = service.events.get(action="suspend_requested")
    assert event.data == {"replaces": "change_package", "reason": "overdue"}
    assert sent_tasks.named("provisioning.run_pending_action") == [(service.pk,)]


@override_settings(PROVISIONING_RETRY_BASE_SECONDS=2, PROVISIONING_RETRY_MAX_SECONDS=60)
def test_countdowns_back_off_stay_capped_and_honour_retry_after():
    first = [services.retry_countdown(1) for _ in range(50)]
    fifth = [services.retry_countdown(5) for _ in range(50)]

    assert all(1 <= c <= 2 for c in first)
    assert all(16 <= c <= 32 for c in fifth)
    assert all(c <= 60 for c in (services.retry_countdown(20) for _ in range(50)))
    assert services.retry_countdown(1, retry_after=45) >= 45
    assert services.retry_countdown(1, retry_after=600) == 60


def test_a_post_that_failed_before_reaching_the_panel_never_leads_to_a_takeover(
    simulator, panel, customer, server_for, product_for
):
    server = server_for(simulator)
    product = product_for((server, "office"), client_name_rule="c{client_id}")
    foreign = panel.create_client(network_name="office", name=f"c{customer.pk}")
    service = _pending(customer, product)
    refuse_once = {"method": "POST", "path": "^client$", "count": 1, "status": 503}
    simulator.knob("POST", "faults", {"rules": [{**refuse_once, "message": "Busy"}]})

    with pytest.raises(services.ProvisioningRetry):
        services.service_run_pending_action(service_id=service.pk)
    service.refresh_from_db()
    posted_after_refusal = service.create_posted_at
    _make_due(service)
    services.service_run_pending_action(service_id=service.pk)

    service.refresh_from_db()
    assert posted_after_refusal is None
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert service.remote_name == f"c{customer.pk}-1"
    assert panel.get_client(foreign.name) == foreign


def test_a_rejected_post_is_not_remembered_as_posted(simulator, customer, office):
    _, product = office
    service = _pending(customer, product)
    simulator.knob("POST", "slots/exhaust")

    services.service_run_pending_action(service_id=service.pk)

    service.refresh_from_db()
    assert service.status == ServiceStatus.FAILED
    assert service.create_posted_at is None


def test_an_action_whose_worker_keeps_dying_is_parked_with_a_warning(customer, office):
    server, product = office
    service = _pending(
        customer,
        product,
        status=ServiceStatus.PROVISIONING,
        server=server,
        remote_name="vpn-maybe",
        create_posted_at=timezone.now(),
        action_attempts=3,
    )

    services.service_run_pending_action(service_id=service.pk)

    service.refresh_from_db()
    assert service.status == ServiceStatus.FAILED
    assert service.last_error.startswith("The worker stopped 3 times")
    assert service.needs_attention
    assert "vpn-maybe" in service.attention_reason


def test_a_worker_that_lost_its_lease_writes_nothing_more_to_the_panel(
    simulator, panel, customer, office, monkeypatch
):
    server, product = office
    panel.create_client(network_name="office", name="vpn-shared")
    service = _pending(
        customer,
        product,
        ServiceAction.SUSPEND,
        status=ServiceStatus.ACTIVE,
        server=server,
        remote_name="vpn-shared",
        create_posted_at=timezone.now(),
    )
    original_claim = runner.claim

    def claim_then_lose_it(service_id):
        claim = original_claim(service_id)
        Service.objects.filter(pk=service_id).update(action_token="f" * 32)
        return claim

    monkeypatch.setattr(runner, "claim", claim_then_lose_it)
    simulator.knob("POST", "calls/reset")

    services.service_run_pending_action(service_id=service.pk)

    assert panel.get_client("vpn-shared").is_enabled
    assert [c for c in simulator.knob("GET", "calls") if c["method"] == "PUT"] == []


def test_after_a_post_that_may_have_been_applied_the_service_stays_on_that_server(
    simulator_factory, customer, server_for, product_for
):
    first, second = simulator_factory(), simulator_factory()
    a, b = server_for(first, name="A"), server_for(second, name="B")
    product = product_for((a, "office"), (b, "office"))
    service = _pending(
        customer,
        product,
        status=ServiceStatus.PROVISIONING,
        server=a,
        network="office",
        remote_name="vpn-late",
        create_posted_at=timezone.now(),
    )
    first.knob("POST", "slots/exhaust")

    services.service_run_pending_action(service_id=service.pk)

    service.refresh_from_db()
    assert service.status == ServiceStatus.FAILED
    assert service.server == a
    assert service.needs_attention
    assert "vpn-late" in service.attention_reason
    assert PanelClient(second.url, second.token).clients() == []

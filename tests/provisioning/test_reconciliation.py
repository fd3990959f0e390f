"""Reconciliation against a live simulator: orphans, ghosts and drift are reported, never deleted;
the one safe fix (re-suspend) is applied once; a failed panel read resolves nothing."""

import time
import uuid

import pytest
from django.utils import timezone

from provisioning import services, tasks
from provisioning.models import (
    FindingKind,
    ModuleLogEntry,
    ReconciliationFinding,
    Service,
    ServiceAction,
    ServiceStatus,
)
from provisioning.reconciliation import (
    FIX_RESUSPEND_QUEUED,
    finding_delete_orphan,
    reconcile_server,
)
from tests.factories import (
    ReconciliationFindingFactory,
    ServiceFactory,
    UserFactory,
    order_service,
)
from tests.provisioning.conftest import settled, wait_for_service

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def active_service(live_worker, simulator, customer, server_for, product_for):
    """An active service provisioned through the real lifecycle on the simulator."""
    server = server_for(simulator)
    product = product_for((server, "office"), download_mbps=10, upload_mbps=5)
    service = wait_for_service(order_service(customer, product), settled)
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    return service


def request(service: Service, action: str) -> Service:
    services.service_request_action(service=service, actor=None, reason="test", action=action)
    return wait_for_service(service, settled)


def open_findings(server, **filters):
    return list(
        ReconciliationFinding.objects.filter(server=server, resolved_at__isnull=True, **filters)
    )


def resuspends(service: Service) -> int:
    """Re-suspends queued by reconciliation (the worker then disables the client)."""
    return service.events.filter(action="resuspend_requested").count()


def test_client_deleted_behind_our_back_is_reported_as_a_ghost(active_service, simulator):
    simulator.knob("DELETE", f"clients/{active_service.remote_name}")

    report = reconcile_server(server_id=active_service.server_id)

    assert report.reachable
    assert report.ghosts == [active_service.remote_name]
    [finding] = open_findings(active_service.server)
    assert (finding.kind, finding.service) == (FindingKind.GHOST, active_service)
    active_service.refresh_from_db()
    assert active_service.status == ServiceStatus.ACTIVE  # reported, not acted on


def test_client_created_behind_our_back_is_an_orphan_reported_and_never_deleted(
    active_service, simulator, panel
):
    simulator.knob("POST", "clients", {"name": "stray", "network_name": "office"})

    first = reconcile_server(server_id=active_service.server_id)
    second = reconcile_server(server_id=active_service.server_id)

    assert first.orphans == second.orphans == ["stray"]
    [finding] = open_findings(active_service.server)
    assert (finding.kind, finding.remote_name, finding.service) == (
        FindingKind.ORPHAN,
        "stray",
        None,
    )
    assert finding.last_seen_at > finding.first_seen_at
    assert "stray" in [client.name for client in panel.clients()]


def test_client_of_a_terminated_service_is_an_orphan_linked_to_that_service(
    active_service, simulator
):
    # Terminated locally while the panel kept the client: the rule's other side (re-created here).
    name = active_service.remote_name
    assert request(active_service, ServiceAction.TERMINATE).status == ServiceStatus.TERMINATED
    simulator.knob("POST", "clients", {"name": name, "network_name": "office"})

    report = reconcile_server(server_id=active_service.server_id)

    assert report.orphans == [name]
    [finding] = open_findings(active_service.server)
    assert finding.service == active_service
    assert "terminated" in finding.detail


def test_enabled_client_of_a_suspended_service_is_suspended_again_once(active_service, panel):
    service = request(active_service, ServiceAction.SUSPEND)
    assert service.status == ServiceStatus.SUSPENDED
    panel.update_client(service.remote_name, status="enable")

    report = reconcile_server(server_id=service.server_id)
    service = wait_for_service(service, settled)

    assert (report.drift, report.fixed) == ([service.remote_name], [service.remote_name])
    assert service.status == ServiceStatus.SUSPENDED
    assert not panel.get_client(service.remote_name).is_enabled
    [finding] = open_findings(service.server)
    assert finding.kind == FindingKind.DRIFT
    assert finding.fix_applied == FIX_RESUSPEND_QUEUED
    assert resuspends(service) == 1
    assert (
        ModuleLogEntry.objects.filter(
            service=service, action="suspend", method="PUT", outcome="ok"
        ).count()
        == 2
    )  # the admin's suspend and the re-suspend

    # Someone enables it again: still reported on the same finding, but the fix is not repeated.
    panel.update_client(service.remote_name, status="enable")
    again = reconcile_server(server_id=service.server_id)
    assert (again.drift, again.fixed) == ([service.remote_name], [])
    assert panel.get_client(service.remote_name).is_enabled
    assert [f.pk for f in open_findings(service.server)] == [finding.pk]
    assert resuspends(service) == 1

    # Once the panel agrees with us, the finding resolves; nothing new is opened or applied.
    panel.update_client(service.remote_name, status="disable")
    last = reconcile_server(server_id=service.server_id)
    assert (last.drift, last.resolved) == ([], 1)
    assert open_findings(service.server) == []
    assert resuspends(service) == 1
    assert ReconciliationFinding.objects.filter(server=service.server).count() == 1


def test_fixed_drift_resolves_on_the_next_run_without_a_second_fix(active_service, panel):
    service = request(active_service, ServiceAction.SUSPEND)
    panel.update_client(service.remote_name, status="enable")

    reconcile_server(server_id=service.server_id)
    wait_for_service(service, settled)
    second = reconcile_server(server_id=service.server_id)

    assert (second.drift, second.fixed, second.resolved) == ([], [], 1)
    finding = ReconciliationFinding.objects.get(server=service.server)
    assert finding.resolved_at is not None
    assert finding.fix_applied == FIX_RESUSPEND_QUEUED
    assert resuspends(service) == 1


@pytest.fixture
def suspended_but_enabled(live_worker, simulator, customer, server_for, product_for) -> Service:
    """A suspended service whose client is enabled on the panel: drift the run re-suspends."""
    server = server_for(simulator)
    simulator.knob("POST", "clients", {"name": "vpn-drifted", "network_name": "office"})
    return ServiceFactory(
        customer=customer,
        product=product_for((server, "office")),
        server=server,
        network="office",
        remote_name="vpn-drifted",
        status=ServiceStatus.SUSPENDED,
    )


def test_the_resuspend_goes_through_the_outbox_so_an_unsuspend_cannot_be_overwritten(
    suspended_but_enabled, simulator, panel
):
    service = suspended_but_enabled
    simulator.knob("POST", "faults", {"latency_ms": 300})

    report = reconcile_server(server_id=service.server_id)
    service.refresh_from_db()
    with pytest.raises(services.ProvisioningError, match="still in progress"):
        services.service_request_action(
            service=service, actor=None, reason="test", action=ServiceAction.UNSUSPEND
        )

    assert report.fixed == [service.remote_name]
    assert service.pending_action == ServiceAction.SUSPEND
    assert wait_for_service(service, settled).status == ServiceStatus.SUSPENDED
    assert not panel.get_client(service.remote_name).is_enabled


def test_a_refused_resuspend_is_parked_visibly_and_not_repeated(
    suspended_but_enabled, simulator, panel
):
    service = suspended_but_enabled
    rule = {"method": "PUT", "path": f"^client/{service.remote_name}$", "status": 422}
    simulator.knob("POST", "faults", {"rules": [{**rule, "message": "Panel said no"}]})

    reconcile_server(server_id=service.server_id)
    service = wait_for_service(service, settled)
    again = reconcile_server(server_id=service.server_id)

    assert service.action_parked
    assert service.pending_action == ServiceAction.SUSPEND
    assert "Panel said no" in service.last_error
    assert again.fixed == []
    assert resuspends(service) == 1
    assert panel.get_client(service.remote_name).is_enabled


def test_disabled_client_of_an_active_service_is_reported_not_enabled(active_service, panel):
    panel.update_client(active_service.remote_name, status="disable")

    report = reconcile_server(server_id=active_service.server_id)

    assert (report.drift, report.fixed) == ([active_service.remote_name], [])
    assert not panel.get_client(active_service.remote_name).is_enabled
    [finding] = open_findings(active_service.server)
    assert (finding.kind, finding.fix_applied) == (FindingKind.DRIFT, "")


def test_findings_resolve_when_the_situation_disappears(active_service, simulator):
    simulator.knob("DELETE", f"clients/{active_service.remote_name}")
    simulator.knob("POST", "clients", {"name": "stray", "network_name": "office"})
    report = reconcile_server(server_id=active_service.server_id)
    assert (report.ghosts, report.orphans) == ([active_service.remote_name], ["stray"])

    # The admin terminates the ghost (absent counts as done); the stray goes away on the panel.
    assert request(active_service, ServiceAction.TERMINATE).status == ServiceStatus.TERMINATED
    simulator.knob("DELETE", "clients/stray")
    report = reconcile_server(server_id=active_service.server_id)

    assert (report.ghosts, report.orphans, report.resolved) == ([], [], 2)
    assert open_findings(active_service.server) == []


def test_panel_down_resolves_nothing_and_the_report_says_unreachable(active_service, simulator):
    simulator.knob("POST", "clients", {"name": "stray", "network_name": "office"})
    reconcile_server(server_id=active_service.server_id)
    simulator.knob("DELETE", "clients/stray")  # a good read would now resolve the orphan
    simulator.stop()

    report = reconcile_server(server_id=active_service.server_id)

    assert not report.reachable
    assert "unreachable" in report.summary.lower()
    assert report.error
    [finding] = open_findings(active_service.server)
    assert finding.remote_name == "stray"


def test_delete_orphan_deletes_the_client_and_resolves_the_finding(
    active_service, simulator, panel
):
    admin = UserFactory(username="root")
    simulator.knob("POST", "clients", {"name": "stray", "network_name": "office"})
    simulator.knob("POST", "clients", {"name": "gone", "network_name": "office"})
    reconcile_server(server_id=active_service.server_id)
    stray, gone = (
        ReconciliationFinding.objects.get(remote_name=name) for name in ("stray", "gone")
    )
    simulator.knob("DELETE", "clients/gone")  # already gone when the admin confirms: done too

    finding_delete_orphan(finding_id=stray.pk, actor=admin)
    finding_delete_orphan(finding_id=gone.pk, actor=admin)

    names = [client.name for client in panel.clients()]
    assert "stray" not in names
    assert active_service.remote_name in names
    for finding in (stray, gone):
        finding.refresh_from_db()
        assert finding.resolved_at is not None
        assert finding.fix_applied == "deleted by root"
    with pytest.raises(services.ProvisioningError):
        finding_delete_orphan(finding_id=stray.pk, actor=admin)  # resolved: nothing to do


def test_delete_orphan_refuses_a_client_a_live_service_owns_now(active_service, simulator):
    simulator.knob("DELETE", f"clients/{active_service.remote_name}")
    ghost = reconcile_server(server_id=active_service.server_id)
    assert ghost.ghosts == [active_service.remote_name]
    finding = ReconciliationFindingFactory(
        server=active_service.server,
        kind=FindingKind.ORPHAN,
        remote_name=active_service.remote_name,
    )

    with pytest.raises(services.ProvisioningError, match="belongs to service"):
        finding_delete_orphan(finding_id=finding.pk, actor=None)


def test_client_of_a_service_being_provisioned_is_not_an_orphan(
    simulator, panel, customer, server_for, product_for
):
    # A worker holds the create lease and has POSTed the client, but not finished yet.
    server = server_for(simulator)
    product = product_for((server, "office"))
    panel.create_client(network_name="office", name="vpn-in-flight")
    ServiceFactory(
        customer=customer,
        product=product,
        server=server,
        network="office",
        remote_name="vpn-in-flight",
        status=ServiceStatus.PROVISIONING,
        pending_action=ServiceAction.CREATE,
        action_requested_at=timezone.now(),
        action_token=uuid.uuid4(),
        action_started_at=timezone.now(),
    )

    report = reconcile_server(server_id=server.pk)

    assert (report.clients, report.orphans, report.ghosts, report.drift) == (1, [], [], [])
    assert open_findings(server) == []


def test_beat_task_reconciles_each_enabled_server_on_the_worker(
    live_worker, simulator_factory, server_for
):
    on, off = simulator_factory(), simulator_factory()
    enabled = server_for(on)
    disabled = server_for(off, enabled=False)
    for sim in (on, off):
        sim.knob("POST", "clients", {"name": "stray", "network_name": "office"})

    assert tasks.reconcile_panels.apply().get() == 1  # the per-server tasks go to the worker

    deadline = time.monotonic() + 30
    while not open_findings(enabled):
        assert time.monotonic() < deadline, "the worker did not reconcile the enabled server"
        time.sleep(0.1)
    [finding] = open_findings(enabled)
    assert (finding.kind, finding.remote_name) == (FindingKind.ORPHAN, "stray")
    assert ModuleLogEntry.objects.filter(server=enabled, action="reconcile").exists()
    assert not ModuleLogEntry.objects.filter(server=disabled).exists()

"""Reconciliation on a panel that does not list its clients (``GET client`` is not in the panel's
documented API): asked per service instead, ghosts and drift are still found, orphans are
reported as not checkable, and the panel is not called unreachable."""

import pytest
from django.urls import reverse
from django.utils import timezone

from provisioning.models import FindingKind, ReconciliationFinding, ServiceStatus
from provisioning.reconciliation import reconcile_server
from tests.factories import ReconciliationFindingFactory, ServiceFactory

pytestmark = pytest.mark.django_db

NO_LIST = {"method": "GET", "path": "^client$", "status": 404, "message": "Not Found"}


@pytest.fixture
def panel_without_list(simulator):
    simulator.knob("POST", "faults", {"rules": [{**NO_LIST, "count": None}]})
    return simulator


def on_panel(server, product, name: str, *, status=ServiceStatus.ACTIVE):
    return ServiceFactory(
        product=product,
        server=server,
        network="office",
        remote_name=name,
        status=status,
        create_posted_at=timezone.now(),
    )


def test_ghosts_and_drift_are_found_per_service_and_orphans_said_uncheckable(
    panel_without_list, panel, server_for, product_for
):
    simulator = panel_without_list
    server = server_for(simulator)
    product = product_for((server, "office"))
    for name in ("vpn-fine", "vpn-drift", "stray"):
        panel.create_client(network_name="office", name=name)
    on_panel(server, product, "vpn-fine")
    on_panel(server, product, "vpn-ghost")
    on_panel(server, product, "vpn-drift", status=ServiceStatus.SUSPENDED)
    earlier_orphan = ReconciliationFindingFactory(
        server=server, kind=FindingKind.ORPHAN, remote_name="stray", detail="seen before"
    )
    simulator.knob("POST", "calls/reset")

    report = reconcile_server(server_id=server.pk)

    assert report.reachable, report.error
    assert report.ghosts == ["vpn-ghost"]
    assert report.drift == ["vpn-drift"]
    assert report.orphans == []
    assert not report.orphans_checked
    assert "GET client answered HTTP 404" in report.orphans_unchecked_reason
    assert "Orphans not checked" in report.summary
    assert "unreachable" not in report.summary.lower()
    server.refresh_from_db()  # what an admin sees: the server page and Needs attention
    assert (server.reconciliation_complete, server.reconciliation_summary) == (
        False,
        report.summary,
    )
    asked = sorted(call["path"] for call in simulator.knob("GET", "calls"))
    assert asked == sorted(
        ["/api/v1/client"]
        + [f"/api/v1/client/{name}" for name in ("vpn-fine", "vpn-ghost", "vpn-drift")]
    )
    # an orphan seen before is neither resolved nor confirmed: it could not be looked for
    earlier_orphan.refresh_from_db()
    assert earlier_orphan.resolved_at is None
    kinds = set(
        ReconciliationFinding.objects.filter(server=server, resolved_at__isnull=True).values_list(
            "kind", "remote_name"
        )
    )
    assert kinds == {
        (FindingKind.GHOST, "vpn-ghost"),
        (FindingKind.DRIFT, "vpn-drift"),
        (FindingKind.ORPHAN, "stray"),
    }


def test_a_panel_down_during_the_per_service_checks_is_unreachable_and_resolves_nothing(
    panel_without_list, server_for, product_for
):
    simulator = panel_without_list
    server = server_for(simulator)
    product = product_for((server, "office"))
    on_panel(server, product, "vpn-a")
    ghost = ReconciliationFindingFactory(server=server, kind=FindingKind.GHOST, remote_name="vpn-a")
    rules = [{**NO_LIST, "count": None}, {"method": "GET", "path": "^client/", "count": None}]
    simulator.knob("POST", "faults", {"rules": rules})

    report = reconcile_server(server_id=server.pk)

    assert not report.reachable
    ghost.refresh_from_db()
    assert ghost.resolved_at is None
    server.refresh_from_db()
    assert not server.reconciliation_complete
    assert server.reconciliation_summary.startswith("Panel unreachable")


def test_needs_attention_lists_a_panel_whose_orphans_went_unchecked(
    panel_without_list, server_for, admin_client
):
    server = server_for(panel_without_list)
    reconcile_server(server_id=server.pk)

    page = admin_client.get(reverse("admin:provisioning_service_attention")).content.decode()
    index = admin_client.get(reverse("admin:index")).content.decode()

    assert "Panels not fully reconciled (1)" in page
    assert "Orphans not checked: the panel does not list its clients" in page
    assert "1 panel not fully reconciled" in index
    panel_without_list.knob("POST", "faults", {"rules": []})  # the list endpoint is back
    reconcile_server(server_id=server.pk)
    server.refresh_from_db()
    assert server.reconciliation_complete
    assert (
        "Panels not fully reconciled (0)"
        in admin_client.get(reverse("admin:provisioning_service_attention")).content.decode()
    )

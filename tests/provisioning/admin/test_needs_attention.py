"""Needs attention: failed and parked services, flagged ones and open findings, one page; and the
confirmed deletion of an orphan client on its panel."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from provisioning.models import (
    FindingKind,
    ReconciliationFinding,
    ServiceAction,
    ServiceStatus,
)
from tests.factories import ReconciliationFindingFactory
from vpnpanel import PanelClient, PanelNotFound

pytestmark = pytest.mark.django_db

ATTENTION = "admin:provisioning_service_attention"


def delete_orphan_url(finding: ReconciliationFinding) -> str:
    return reverse("admin:provisioning_reconciliationfinding_delete_orphan", args=[finding.pk])


def test_lists_everything_that_needs_an_admin_and_nothing_else(
    admin_client, service_factory, offline_server
):
    failed = service_factory(status=ServiceStatus.FAILED, last_error="No deployable server")
    parked = service_factory(
        status=ServiceStatus.ACTIVE,
        remote_name="vpn-parked",
        pending_action=ServiceAction.SUSPEND,
        action_failed_at=timezone.now(),
        last_error="Panel <b>down</b>",
    )
    flagged = service_factory(
        status=ServiceStatus.FAILED,
        needs_attention=True,
        attention_reason="Orphan client 'vpn-x' may exist",
    )
    healthy = service_factory(status=ServiceStatus.ACTIVE, remote_name="vpn-healthy")
    queued = service_factory(pending_action=ServiceAction.CREATE)
    finding = ReconciliationFindingFactory(
        server=offline_server, kind=FindingKind.ORPHAN, remote_name="vpn-orphan"
    )
    ReconciliationFindingFactory(
        server=offline_server,
        kind=FindingKind.GHOST,
        remote_name="vpn-gone",
        resolved_at=timezone.now(),
    )

    response = admin_client.get(reverse(ATTENTION))

    html = response.content.decode()
    listed = {service.pk for service in response.context["services"]}
    assert listed == {failed.pk, parked.pk, flagged.pk}
    assert healthy.pk not in listed
    assert queued.pk not in listed
    assert [f.pk for f in response.context["findings"]] == [finding.pk]
    assert "Panel &lt;b&gt;down&lt;/b&gt;" in html
    assert delete_orphan_url(finding) in html
    assert reverse("admin:provisioning_service_retry", args=[parked.pk]) in html


def test_admin_index_links_to_the_attention_page_with_counts(admin_client, service_factory):
    service_factory(status=ServiceStatus.FAILED)

    html = admin_client.get(reverse("admin:index")).content.decode()

    assert reverse(ATTENTION) in html
    assert "1 service," in html


def test_delete_orphan_asks_first_then_deletes_the_client_on_the_panel(
    admin_client, simulator, server_for
):
    server = server_for(simulator)
    simulator.knob("POST", "clients", {"name": "vpn-orphan", "network_name": "office"})
    finding = ReconciliationFindingFactory(
        server=server, kind=FindingKind.ORPHAN, remote_name="vpn-orphan"
    )
    panel = PanelClient(simulator.url, simulator.token)

    page = admin_client.get(delete_orphan_url(finding))
    assert page.status_code == 200
    assert "Delete the client “vpn-orphan”" in page.content.decode()
    assert panel.get_client("vpn-orphan").name == "vpn-orphan"

    response = admin_client.post(delete_orphan_url(finding), follow=True)

    assert "was deleted on" in response.content.decode()
    with pytest.raises(PanelNotFound):
        panel.get_client("vpn-orphan")
    finding.refresh_from_db()
    assert finding.resolved_at is not None


def test_delete_orphan_refusal_is_a_message(admin_client, offline_server):
    ghost = ReconciliationFindingFactory(
        server=offline_server, kind=FindingKind.GHOST, remote_name="vpn-ghost"
    )

    response = admin_client.post(delete_orphan_url(ghost), follow=True)

    assert "Only an open orphan finding can be deleted." in response.content.decode()


def test_delete_orphan_needs_the_csrf_token(csrf_admin_client, offline_server):
    finding = ReconciliationFindingFactory(
        server=offline_server, kind=FindingKind.ORPHAN, remote_name="vpn-orphan"
    )

    assert csrf_admin_client.post(delete_orphan_url(finding)).status_code == 403
    finding.refresh_from_db()
    assert finding.resolved_at is None


def test_findings_are_read_only_and_filter_by_state(admin_client, offline_server):
    open_one = ReconciliationFindingFactory(
        server=offline_server, kind=FindingKind.DRIFT, remote_name="vpn-a"
    )
    ReconciliationFindingFactory(
        server=offline_server,
        kind=FindingKind.DRIFT,
        remote_name="vpn-b",
        resolved_at=timezone.now(),
    )
    url = reverse("admin:provisioning_reconciliationfinding_changelist")

    response = admin_client.get(url, {"state": "open"})

    assert [f.pk for f in response.context["cl"].result_list] == [open_one.pk]
    change = reverse("admin:provisioning_reconciliationfinding_change", args=[open_one.pk])
    assert 'name="_save"' not in admin_client.get(change).content.decode()
    assert (
        admin_client.get(reverse("admin:provisioning_reconciliationfinding_add")).status_code == 403
    )

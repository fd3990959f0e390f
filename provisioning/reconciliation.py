"""Reconciliation: compare a panel's clients with our services and report the differences.

Three kinds of finding (reliability class 13):

- **orphan**: a client on the panel with no live service of that name on this server (e.g. deleted
  locally but still running remotely). Reported only; deleting it takes an admin's confirmation
  (:func:`finding_delete_orphan`).
- **ghost**: an active or suspended service whose client is missing on the panel. Reported only.
- **drift**: the client's status disagrees with the service's. A suspended service whose client is
  enabled gets its suspend queued again, once per finding (the one safe fix: it only takes away
  access the customer is not entitled to; the worker applies it through the service's outbox).
  An active service whose client is disabled is reported only: enabling access is an admin's
  decision.

Reconciliation never deletes anything and never changes a service's status. Findings are upserted
(one open finding per server, kind and client name), and resolved when no longer observed. A
failed panel read resolves nothing. Services with an action in flight are left alone: the worker
doing it is about to change exactly what we would compare.

Listing every client (``GET client``) is not in the panel's documented API. A panel that answers
it with 404 (or 405) is asked per service instead (``GET client/{name}``): ghosts and drift are
still found, but orphans cannot be (nothing names them), which the report says, and open orphan
findings on that panel are left as they are.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from provisioning.exceptions import ActionRefused
from provisioning.models import (
    LIVE_STATUSES,
    ON_PANEL_STATUSES,
    FindingKind,
    ReconciliationFinding,
    Server,
    Service,
    ServiceStatus,
)
from provisioning.panels import panel_for
from provisioning.services import service_event_record, service_reapply_suspend
from vpnpanel import PanelClient, PanelError, VpnClient

logger = logging.getLogger(__name__)

S = ServiceStatus
K = FindingKind
FIX_RESUSPEND_QUEUED = "re-suspend queued"
# A panel that answers these to GET client has no list endpoint (it is not in the documented API).
NO_LIST_STATUSES = frozenset({404, 405})
REPORT_LISTS = {K.ORPHAN: "orphans", K.GHOST: "ghosts", K.DRIFT: "drift"}


@dataclass
class ReconciliationReport:
    """What one run on one server saw and did; ``reachable`` is False when the panel read failed."""

    server_id: int
    reachable: bool = True
    error: str = ""
    clients: int = 0
    orphans: list[str] = field(default_factory=list)
    ghosts: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    fix_errors: list[str] = field(default_factory=list)
    resolved: int = 0
    orphans_checked: bool = True
    orphans_unchecked_reason: str = ""

    @property
    def summary(self) -> str:
        if not self.reachable:
            return f"Panel unreachable, nothing compared: {self.error}"
        text = (
            f"{self.clients} clients; {len(self.orphans)} orphan(s), {len(self.ghosts)} ghost(s), "
            f"{len(self.drift)} drift(s), {len(self.fixed)} fixed, {self.resolved} resolved"
        )
        if not self.orphans_checked:
            text += f". Orphans not checked: {self.orphans_unchecked_reason}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "server_id": self.server_id,
            "reachable": self.reachable,
            "error": self.error,
            "clients": self.clients,
            "orphans": self.orphans,
            "ghosts": self.ghosts,
            "drift": self.drift,
            "fixed": self.fixed,
            "fix_errors": self.fix_errors,
            "resolved": self.resolved,
            "orphans_checked": self.orphans_checked,
            "orphans_unchecked_reason": self.orphans_unchecked_reason,
        }


@dataclass(frozen=True)
class _Observation:
    kind: str
    remote_name: str
    detail: str
    service: Service | None = None


def servers_to_reconcile() -> list[int]:
    return list(Server.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))


def reconcile_server(*, server_id: int) -> ReconciliationReport:
    """Compare one panel with our services, upsert findings, apply the safe fix once."""
    server = Server.objects.get(pk=server_id)
    report = ReconciliationReport(server_id=server.pk)
    run_id = uuid.uuid4()
    # Services are read before and after the panel: a service whose status or pending action
    # changed in between was being worked on, and its comparison would be a false alarm.
    before = _service_states(server)
    try:
        with panel_for(server, action="reconcile", correlation_id=run_id) as panel:
            clients = _panel_clients(panel, server, report)
    except PanelError as exc:
        report.reachable = False
        report.error = str(exc)
        logger.warning("Reconciliation of %s skipped: %s", server, exc)
        _remember(server, report)
        return report
    report.clients = len(clients)
    observations = _compare(server, clients, before, orphans=report.orphans_checked)
    now = timezone.now()
    seen: set[tuple[str, str]] = set()
    for observation in observations:
        finding = _upsert(server, observation, now)
        seen.add((observation.kind, observation.remote_name))
        getattr(report, REPORT_LISTS[observation.kind]).append(observation.remote_name)
        if _needs_resuspend(observation, finding):
            _resuspend(finding, observation, report)
    compared = set(K) if report.orphans_checked else set(K) - {K.ORPHAN}
    report.resolved = _resolve_unseen(server, seen, now, kinds=compared)
    logger.info("Reconciliation of %s: %s", server, report.summary)
    _remember(server, report)
    return report


def _remember(server: Server, report: ReconciliationReport) -> None:
    """Keep the run's outcome on the server, where admins see it (server page, Needs attention)."""
    Server.objects.filter(pk=server.pk).update(
        reconciled_at=timezone.now(),
        reconciliation_complete=report.reachable and report.orphans_checked,
        reconciliation_summary=report.summary,
    )


def _panel_clients(
    panel: PanelClient, server: Server, report: ReconciliationReport
) -> dict[str, VpnClient]:
    """Every client on the panel by name; or, on a panel without the list endpoint, the clients
    of the services that should be there, asked one by one (orphans then go unchecked)."""
    try:
        return {client.name: client for client in panel.clients()}
    except PanelError as exc:
        if exc.status not in NO_LIST_STATUSES:
            raise
        report.orphans_checked = False
        report.orphans_unchecked_reason = (
            f"the panel does not list its clients (GET client answered HTTP {exc.status}), so "
            "clients no service knows cannot be found; ghosts and drift were checked per service."
        )
        logger.info("Reconciliation of %s: no client list, asking per service", server)
    expected = Service.objects.filter(server=server, status__in=ON_PANEL_STATUSES).exclude(
        remote_name=""
    )
    found = (panel.find_client(name) for name in expected.values_list("remote_name", flat=True))
    return {client.name: client for client in found if client is not None}


def finding_delete_orphan(*, finding_id: int, actor: Any) -> None:
    """Delete an orphan client on the panel after an admin confirmed it; already gone is done."""
    finding = ReconciliationFinding.objects.select_related("server").get(pk=finding_id)
    if finding.kind != K.ORPHAN or finding.resolved_at is not None:
        raise ActionRefused("Only an open orphan finding can be deleted.")
    owner = _live_owner(finding.server, finding.remote_name)
    if owner is not None:
        raise ActionRefused(
            f"Client {finding.remote_name!r} now belongs to service #{owner.pk}; not deleted."
        )
    try:
        with panel_for(finding.server, action="delete_orphan") as panel:
            panel.delete_client_if_present(finding.remote_name)
    except PanelError as exc:
        raise ActionRefused(
            f"Could not delete {finding.remote_name!r} on {finding.server}: {exc}"
        ) from exc
    user = actor.get_username() if getattr(actor, "pk", None) else "system"
    with transaction.atomic():
        updated = ReconciliationFinding.objects.filter(
            pk=finding.pk, resolved_at__isnull=True
        ).update(resolved_at=timezone.now(), fix_applied=f"deleted by {user}"[:100])
        if updated and finding.service_id is not None:
            service_event_record(
                service=finding.service,
                actor=actor,
                action="orphan_client_deleted",
                data={"server": finding.server_id, "remote_name": finding.remote_name},
            )
    logger.info("Orphan client %r on %s deleted by %s", finding.remote_name, finding.server, user)


# Comparing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    status: str
    pending_action: str
    action_parked: bool


def _service_states(server: Server) -> dict[int, _State]:
    rows = Service.objects.filter(server=server).exclude(remote_name="")
    return {
        service.pk: _State(service.status, service.pending_action, service.action_parked)
        for service in rows.only("pk", "status", "pending_action", "action_failed_at")
    }


def _compare(
    server: Server, clients: dict[str, VpnClient], before: dict[int, _State], *, orphans: bool
) -> list[_Observation]:
    here = list(Service.objects.filter(server=server).exclude(remote_name=""))
    settled = [service for service in here if _settled_since(service, before.get(service.pk))]
    # A live service owns its client; so, for this run, does one that changed meanwhile (a
    # terminate that deleted the client after we listed it must not turn it into an orphan).
    owned = {s.remote_name for s in here if s.status in LIVE_STATUSES or s not in settled}
    observations = []
    if orphans:
        observations = [_orphan(server, name) for name in sorted(clients) if name not in owned]
    for service in sorted(settled, key=lambda s: s.remote_name):
        client = clients.get(service.remote_name)
        if service.status in ON_PANEL_STATUSES and client is None:
            detail = f"Service #{service.pk} is {service.status} but its client is missing."
            observations.append(_Observation(K.GHOST, service.remote_name, detail, service))
        elif service.status == S.SUSPENDED and client is not None and client.is_enabled:
            detail = f"Service #{service.pk} is suspended but its client is enabled."
            observations.append(_Observation(K.DRIFT, service.remote_name, detail, service))
        elif service.status == S.ACTIVE and client is not None and not client.is_enabled:
            detail = (
                f"Service #{service.pk} is active but its client is disabled; "
                "unsuspend or suspend it to align them (not fixed automatically)."
            )
            observations.append(_Observation(K.DRIFT, service.remote_name, detail, service))
    return observations


def _orphan(server: Server, name: str) -> _Observation:
    other = Service.objects.filter(remote_name=name).first()
    if other is None:
        detail = "No service has this client name."
    elif other.server_id != server.pk:
        detail = f"Service #{other.pk} with this name is {other.status} on another server."
    else:
        detail = f"Service #{other.pk} with this name is {other.status}."
    return _Observation(K.ORPHAN, name, detail, other)


def _settled_since(service: Service, before: _State | None) -> bool:
    """No action running now, and nothing changed while the panel was being read."""
    now = _State(service.status, service.pending_action, service.action_parked)
    return not service.action_in_flight and before == now


def _live_owner(server: Server, name: str) -> Service | None:
    return Service.objects.filter(server=server, remote_name=name, status__in=LIVE_STATUSES).first()


# Findings ----------------------------------------------------------------------------------------


def _upsert(server: Server, observation: _Observation, now) -> ReconciliationFinding:
    lookup = {
        "server": server,
        "kind": observation.kind,
        "remote_name": observation.remote_name,
        "resolved_at__isnull": True,
    }
    values = {"service": observation.service, "detail": observation.detail, "last_seen_at": now}
    for _ in range(2):
        updated = ReconciliationFinding.objects.filter(**lookup).update(**values)
        if updated:
            return ReconciliationFinding.objects.get(**lookup)
        try:
            with transaction.atomic():
                finding = ReconciliationFinding.objects.create(
                    server=server,
                    kind=observation.kind,
                    remote_name=observation.remote_name,
                    first_seen_at=now,
                    **values,
                )
        except IntegrityError:  # a concurrent run opened it first: update that one
            continue
        logger.warning("Reconciliation finding on %s: %s", server, finding)
        return finding
    return ReconciliationFinding.objects.get(**lookup)


def _resolve_unseen(server: Server, seen: set[tuple[str, str]], now, *, kinds: set[str]) -> int:
    """Resolve the open findings of ``kinds`` this run compared and did not see again."""
    open_findings = ReconciliationFinding.objects.filter(
        server=server, resolved_at__isnull=True, kind__in=kinds
    )
    gone = [f.pk for f in open_findings if (f.kind, f.remote_name) not in seen]
    return ReconciliationFinding.objects.filter(pk__in=gone, resolved_at__isnull=True).update(
        resolved_at=now
    )


# The one automatic fix ---------------------------------------------------------------------------


def _needs_resuspend(observation: _Observation, finding: ReconciliationFinding) -> bool:
    service = observation.service
    return (
        observation.kind == K.DRIFT
        and service is not None
        and service.status == S.SUSPENDED
        and not finding.fix_applied
    )


def _resuspend(
    finding: ReconciliationFinding, observation: _Observation, report: ReconciliationReport
) -> None:
    """Queue the disable of a suspended service's client, once per finding.

    The write itself goes through the service's outbox (``service_reapply_suspend``): the worker
    does it under the service's lease, retries it, and parks it visibly if the panel refuses.
    """
    service = observation.service
    with transaction.atomic():
        claimed = ReconciliationFinding.objects.filter(
            pk=finding.pk, fix_applied="", resolved_at__isnull=True
        ).update(fix_applied=FIX_RESUSPEND_QUEUED)
        queued = bool(claimed) and service_reapply_suspend(
            service_id=service.pk, reason=f"reconciliation finding {finding.pk}"
        )
        if not queued:
            transaction.set_rollback(True)
            return
    report.fixed.append(service.remote_name)
    logger.warning("Re-suspend of %s queued: its client was enabled on the panel", service)

"""Where a new service goes: the seed's deploy-target rule, plus WHMCS-style "least full".

Ordered (default): walk the ticked ``server → network`` pairs top to bottom; a pair is deployable
when its server has a free licence slot (and room under the local cap) and its network a free IP.
Least full: of the deployable pairs, the one whose server uses the lowest share of its slots.
No ticks: any enabled server of the group with room, and the panel picks the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from provisioning.models import CAPACITY_STATUSES, Product, Server
from provisioning.panels import panel_for
from provisioning.product_settings import Placement, ProductSettings
from vpnpanel import PanelClient, PanelError, SystemStatus


@dataclass(frozen=True)
class Candidate:
    server: Server
    network: str | None
    fill_ratio: float


@dataclass
class PlacementReport:
    """Why pairs were skipped: shown to the admin when nothing is deployable."""

    reasons: list[str] = field(default_factory=list)
    transient_failure: bool = False

    def skip(self, server: Server, network: str | None, reason: str) -> None:
        self.reasons.append(f"{server.name} → {network or '(panel decides)'}: {reason}")

    def summary(self) -> str:
        """The reasons as one clause (no closing period: callers end the sentence)."""
        reasons = "; ".join(reason.rstrip(".") for reason in self.reasons)
        return reasons or "the product ticks no pair on an enabled server"


@dataclass(frozen=True)
class Availability:
    """Whether a new service of a product could be placed now; ``reason`` says why not."""

    available: bool
    reason: str = ""


def product_availability(product: Product) -> Availability:
    """Ask the product's panels, as a create would (single attempts, short timeouts), whether a
    deployable server/network pair exists right now. A panel that cannot be asked counts as
    full: the shop must not sell what it may not be able to deliver."""
    report = PlacementReport()
    panels: dict[int, PanelClient] = {}

    def panel_for_server(server: Server) -> PanelClient:
        if server.pk not in panels:
            panels[server.pk] = panel_for(server, action="availability", interactive=True)
        return panels[server.pk]

    servers = list(product.group.servers.all())
    try:
        settings = product.typed_settings
        found = next(deployable_candidates(settings, servers, panel_for_server, report), None)
    except ValueError as exc:  # a server without a usable address or token
        return Availability(False, str(exc))
    finally:
        for panel in panels.values():
            panel.close()
    return Availability(found is not None, "" if found else report.summary())


def accounts_taken(server: Server, *, excluding_service_id: int | None = None) -> int:
    """Our services holding an account on ``server``, for its local cap."""
    services = server.services.filter(status__in=CAPACITY_STATUSES)
    if excluding_service_id is not None:
        services = services.exclude(pk=excluding_service_id)
    return services.count()


def deployable_candidates(
    settings: ProductSettings,
    servers: list[Server],
    panel_for_server: Callable[[Server], PanelClient],
    report: PlacementReport,
    *,
    service_id: int | None = None,
) -> Iterator[Candidate]:
    """Deployable pairs in the order they should be tried; panels are asked lazily."""
    by_id = {server.pk: server for server in servers if server.enabled}
    if settings.deploy_targets:
        pairs = [(by_id.get(t.server_id), t.network) for t in settings.deploy_targets]
        pairs = [(server, network) for server, network in pairs if server is not None]
    else:
        pairs = [(server, None) for server in by_id.values()]
    checker = _Checker(panel_for_server, report, service_id)
    candidates = (checker.check(server, network) for server, network in pairs)
    if settings.placement == Placement.LEAST_FULL:
        ranked = [c for c in candidates if c is not None]
        yield from sorted(ranked, key=lambda candidate: candidate.fill_ratio)
    else:
        yield from (c for c in candidates if c is not None)


class _Checker:
    def __init__(
        self,
        panel_for_server: Callable[[Server], PanelClient],
        report: PlacementReport,
        service_id: int | None,
    ) -> None:
        self.panel_for_server = panel_for_server
        self.report = report
        self.service_id = service_id
        self.statuses: dict[int, SystemStatus | None] = {}

    def check(self, server: Server, network: str | None) -> Candidate | None:
        status = self._status(server, network)
        if status is None:
            return None
        used = max(
            status.accounts_used, accounts_taken(server, excluding_service_id=self.service_id)
        )
        if server.max_accounts is not None and used >= server.max_accounts:
            self.report.skip(server, network, f"local cap of {server.max_accounts} reached")
            return None
        if not status.has_free_slot:
            self.report.skip(server, network, "no free licence slot")
            return None
        if network is not None and not self._has_free_ip(server, network):
            return None
        ratio = status.accounts_used / status.accounts_total if status.accounts_total else 1.0
        return Candidate(server, network, ratio)

    def _status(self, server: Server, network: str | None) -> SystemStatus | None:
        if self.statuses.get(server.pk, False) is None:
            self.report.skip(server, network, "panel not usable (see above)")
            return None
        if server.pk not in self.statuses:
            try:
                self.statuses[server.pk] = self.panel_for_server(server).system_status()
            except PanelError as exc:
                self.statuses[server.pk] = None
                self.report.transient_failure |= exc.transient
                self.report.skip(server, network, f"panel not usable: {exc}")
                return None
        return self.statuses[server.pk]

    def _has_free_ip(self, server: Server, network: str) -> bool:
        try:
            free = self.panel_for_server(server).available_ips(network)
        except PanelError as exc:
            self.report.transient_failure |= exc.transient
            self.report.skip(server, network, f"free IPs unknown: {exc}")
            return False
        if not free:
            self.report.skip(server, network, "no free IP")
        return bool(free)

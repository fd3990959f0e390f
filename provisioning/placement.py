"""Where a new service goes: the seed's deploy-target rule, plus WHMCS-style "least full".

Ordered (default): walk the ticked ``server → network`` pairs top to bottom; a pair is deployable
when its server has a free licence slot (and room under the local cap) and its network a free IP.
Least full: of the deployable pairs, the one whose server uses the lowest share of its slots.
No ticks: any enabled server of the group with room, and the panel picks the network.
Room for several (the shop's sold-out check): the deployable pairs' room, summed, each server's
slots counted once however many of its networks are ticked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from provisioning.models import CAPACITY_STATUSES, Product, Server
from provisioning.panels import panel_for
from provisioning.product_settings import Placement, ProductSettings
from vpnpanel import PanelClient, PanelError, SystemStatus


@dataclass(frozen=True)
class Candidate:
    """A deployable pair. ``room``: new accounts its server can still take (licence slots and
    local cap, shared by all the server's pairs); ``free_ips``: the free IPs the panel listed for
    ``network`` (``None`` when the panel picks the network)."""

    server: Server
    network: str | None
    fill_ratio: float
    room: int
    free_ips: int | None


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
    """Whether the new services asked for could be placed now; ``reason`` says why not.
    ``room``: how many new services fit, counted until there was enough (so at least the number
    asked for when ``available``, and all there is when not)."""

    available: bool
    reason: str = ""
    room: int = 0


def product_availability(product: Product, *, count: int = 1) -> Availability:
    """Ask the product's panels, as a create would (single attempts, short timeouts), whether
    ``count`` new services fit right now, placed one after another on the deployable
    server/network pairs. A pair's room is the least of its server's free licence slots
    (``accounts_total - max(accounts_used, accounts_taken)``), its room under the local cap, and
    the free IPs of its network as the panel lists them (the list may be cut short: the
    simulator's holds at most 256, so that count is a lower bound); pairs on one server share its
    slots. Panels are asked in placement order only until enough room is found: for one service,
    the calls a create's placement makes. A panel that cannot be asked counts as full: the shop
    must not sell what it may not be able to deliver."""
    report = PlacementReport()
    panels: dict[int, PanelClient] = {}

    def panel_for_server(server: Server) -> PanelClient:
        if server.pk not in panels:
            panels[server.pk] = panel_for(server, action="availability", interactive=True)
        return panels[server.pk]

    servers = list(product.group.servers.all())
    try:
        settings = product.typed_settings
        candidates = deployable_candidates(settings, servers, panel_for_server, report)
        room = _room(candidates, count, report)
    except ValueError as exc:  # a server without a usable address or token
        return Availability(False, str(exc))
    finally:
        for panel in panels.values():
            panel.close()
    if room >= count:
        return Availability(True, room=room)
    if room == 0:
        return Availability(False, report.summary())
    reasons = f"; {report.summary()}" if report.reasons else ""
    return Availability(False, f"room for {room} of the {count} asked for{reasons}", room)


def _room(candidates: Iterable[Candidate], count: int, report: PlacementReport) -> int:
    """New services that fit on ``candidates``, taken until there is room for ``count``: each
    server adds its networks' free IPs (its own room when the panel picks the network), never
    more than its own room."""
    server_room: dict[int, int] = {}
    network_room: dict[int, dict[str | None, int]] = {}
    total = 0
    for candidate in candidates:
        server = candidate.server
        if candidate.room == 0:  # the panel has slots, but our services being set up hold them
            report.skip(server, candidate.network, "free licence slots held by our services")
        server_room.setdefault(server.pk, candidate.room)
        free = candidate.room if candidate.free_ips is None else candidate.free_ips
        network_room.setdefault(server.pk, {})[candidate.network] = free
        total = sum(
            min(server_room[server_pk], sum(networks.values()))
            for server_pk, networks in network_room.items()
        )
        if total >= count:
            break
    return total


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
        free_ips = None if network is None else self._free_ips(server, network)
        if free_ips == 0:
            return None
        room = status.accounts_total - used
        if server.max_accounts is not None:
            room = min(room, server.max_accounts - used)
        ratio = status.accounts_used / status.accounts_total if status.accounts_total else 1.0
        return Candidate(server, network, ratio, max(room, 0), free_ips)

    def _status(self, server: Server, network: str | None) -> SystemStatus | None:
        if self.statuses.get(server.pk, False) is None:
            self.report.skip(server, network, "panel not usable (see above)")
            return None
        if server.pk not in self.statuses:
            try:
                status = self.panel_for_server(server).system_status()
            except PanelError as exc:
                self.statuses[server.pk] = None
                self.report.transient_failure |= exc.transient
                self.report.skip(server, network, f"panel not usable: {exc}")
                return None
            server.remember_panel_slots(status)
            self.statuses[server.pk] = status
        return self.statuses[server.pk]

    def _free_ips(self, server: Server, network: str) -> int:
        """How many free IPs the panel lists for ``network``; 0 when it cannot say."""
        try:
            free = self.panel_for_server(server).available_ips(network)
        except PanelError as exc:
            self.report.transient_failure |= exc.transient
            self.report.skip(server, network, f"free IPs unknown: {exc}")
            return 0
        if not free:
            self.report.skip(server, network, "no free IP")
        return len(free)

"""Live reads of panels for admin pages (Test connection, a product's VPN-networks tree) and the
shop (which protocols a product offers).

Calls to several panels run in parallel threads (:class:`provisioning.panel_calls.PanelCalls`),
each bounded by the panel client's timeouts and tried once (an admin waiting on a page should see
the error, not sit through backoff), and are written to the module log afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from provisioning.models import Product, Server
from provisioning.panel_calls import PanelCalls
from vpnpanel import LicenseInfo, Network, PanelClient, PanelError, Protocol, SystemStatus

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """The result of one panel call: a value, or the error message to show in its place."""

    value: T | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class ConnectionReport:
    """Test connection: ``system/status``, ``license`` and ``network`` of one panel."""

    server: Server
    status: Outcome[SystemStatus]
    license: Outcome[LicenseInfo]
    networks: Outcome[list[Network]]

    @property
    def ok(self) -> bool:
        return self.status.ok and self.license.ok and self.networks.ok


@dataclass(frozen=True)
class ServerNetworks:
    """One server of a product's group: its networks and licence slots, or why they are unknown."""

    server: Server
    networks: Outcome[list[Network]]
    status: Outcome[SystemStatus]

    @property
    def reachable(self) -> bool:
        return self.networks.ok


def server_test_connection(server: Server) -> ConnectionReport:
    """Ask the panel for its status, licence and networks; every call lands in the module log."""
    results = _run_many(
        "test_connection",
        [server],
        {
            "status": lambda panel: panel.system_status(),
            "license": lambda panel: panel.license(),
            "networks": lambda panel: panel.networks(),
        },
    )[server.pk]
    return ConnectionReport(server, results["status"], results["license"], results["networks"])


def servers_networks(servers: Iterable[Server]) -> list[ServerNetworks]:
    """Networks and licence slots of every given server, asked in parallel, in the given order."""
    servers = list(servers)
    results = _run_many(
        "list_networks",
        servers,
        {
            "networks": lambda panel: panel.networks(),
            "status": lambda panel: panel.system_status(),
        },
    )
    return [
        ServerNetworks(server, results[server.pk]["networks"], results[server.pk]["status"])
        for server in servers
    ]


Call = Callable[[PanelClient], Any]


def _run_many(
    action: str, servers: list[Server], calls: dict[str, Call]
) -> dict[int, dict[str, Outcome[Any]]]:
    """Every named call against every server at once; each answer or error as an Outcome."""
    results: dict[int, dict[str, Outcome[Any]]] = {}
    with PanelCalls(action=action, sample_reads=False) as batch:  # an admin asked: log all
        futures: dict[int, dict[str, Future[Outcome[Any]]]] = {}
        for server in servers:
            try:
                futures[server.pk] = {
                    name: batch.submit(server, partial(_outcome, call))
                    for name, call in calls.items()
                }
            except ValueError as exc:  # no usable address or token: nothing to call
                results[server.pk] = {name: Outcome(error=str(exc)) for name in calls}
        for server_id, named in futures.items():
            results[server_id] = {name: future.result() for name, future in named.items()}
    _remember_panel_slots(servers, results)
    return results


def _remember_panel_slots(
    servers: list[Server], results: dict[int, dict[str, Outcome[Any]]]
) -> None:
    """Each panel's licence slots, from the ``status`` call that answered (for the dashboard)."""
    for server in servers:
        status = results[server.pk].get("status")
        if status is not None and isinstance(status.value, SystemStatus):
            server.remember_panel_slots(status.value)


def _outcome(call: Call, panel: PanelClient) -> Outcome[Any]:
    try:
        return Outcome(value=call(panel))
    except PanelError as exc:
        return Outcome(error=str(exc))
    except Exception as exc:  # a bug, not a panel answer: keep the page up, keep the traceback
        logger.exception("Unexpected error calling %r", panel)
        return Outcome(error=f"Unexpected error ({type(exc).__name__}); see the portal's log.")


def product_protocols(product: Product) -> list[Protocol]:
    """The protocols a new service of ``product`` may get: those enabled on its ticked networks
    (every network of its servers when it ticks none), asked of the panels in parallel. Panels
    that do not answer add nothing; none answering gives ``[]``."""
    targets = product.typed_settings.deploy_targets
    servers = list(product.group.servers.filter(enabled=True))
    ticked = {(target.server_id, target.network) for target in targets}
    offered: set[Protocol] = set()
    for entry in servers_networks(servers):
        for network in entry.networks.value or []:
            if not ticked or (entry.server.pk, network.name) in ticked:
                offered.update(network.enabled_protocols)
    return [protocol for protocol in Protocol if protocol in offered]

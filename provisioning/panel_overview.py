"""Live reads of panels for admin pages: Test connection and a product's VPN-networks tree.

Calls to several panels run in parallel threads, each bounded by the panel client's timeouts and
tried once (an admin waiting on a page should see the error, not sit through backoff). Threads do
HTTP only: every call's redacted record is buffered and written to the module log afterwards from
the calling thread, so the threads never open database connections.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from provisioning.models import Server
from provisioning.module_log import ModuleLogRecorder
from provisioning.panels import panel_client_for
from vpnpanel import (
    CallRecord,
    LicenseInfo,
    Network,
    PanelClient,
    PanelError,
    SystemStatus,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_WORKERS = 8
# For an admin waiting on a page: one try, no backoff; the error is shown, never sat through.


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
    calls = _PanelCalls(action="test_connection")
    results = calls.run(
        server,
        {
            "status": lambda panel: panel.system_status(),
            "license": lambda panel: panel.license(),
            "networks": lambda panel: panel.networks(),
        },
    )
    return ConnectionReport(server, results["status"], results["license"], results["networks"])


def servers_networks(servers: Iterable[Server]) -> list[ServerNetworks]:
    """Networks and licence slots of every given server, asked in parallel, in the given order."""
    servers = list(servers)
    calls = _PanelCalls(action="list_networks")
    results = calls.run_many(
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


class _PanelCalls:
    """Runs named calls against panels in a bounded thread pool and logs them afterwards."""

    def __init__(self, *, action: str) -> None:
        self.action = action
        self.correlation_id = uuid.uuid4()
        self._records: list[tuple[Server, CallRecord]] = []

    def run(self, server: Server, calls: dict[str, Call]) -> dict[str, Outcome[Any]]:
        return self.run_many([server], calls)[server.pk]

    def run_many(
        self, servers: list[Server], calls: dict[str, Call]
    ) -> dict[int, dict[str, Outcome[Any]]]:
        results: dict[int, dict[str, Outcome[Any]]] = {}
        clients: list[PanelClient] = []
        jobs: list[tuple[int, str, Call, PanelClient]] = []
        for server in servers:
            try:
                client = self._client(server)
            except ValueError as exc:  # no usable address or token: nothing to call
                results[server.pk] = {name: Outcome(error=str(exc)) for name in calls}
                continue
            clients.append(client)
            jobs.extend((server.pk, name, call, client) for name, call in calls.items())
        try:
            if jobs:
                with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(jobs))) as pool:
                    futures = [
                        (server_id, name, pool.submit(_outcome, call, client))
                        for server_id, name, call, client in jobs
                    ]
                for server_id, name, future in futures:
                    results.setdefault(server_id, {})[name] = future.result()
        finally:
            for client in clients:
                client.close()
            self._flush()
        return results

    def _client(self, server: Server) -> PanelClient:
        return panel_client_for(server, on_call=partial(self._buffer, server), interactive=True)

    def _buffer(self, server: Server, record: CallRecord) -> None:
        self._records.append((server, record))  # list.append is atomic: safe across threads

    def _flush(self) -> None:
        recorders: dict[int, ModuleLogRecorder] = {}
        for server, record in self._records:
            recorder = recorders.setdefault(
                server.pk,
                ModuleLogRecorder(
                    server=server,
                    service=None,
                    action=self.action,
                    correlation_id=self.correlation_id,
                ),
            )
            recorder(record)
        self._records.clear()


def _outcome(call: Call, client: PanelClient) -> Outcome[Any]:
    try:
        return Outcome(value=call(client))
    except PanelError as exc:
        return Outcome(error=str(exc))
    except Exception as exc:  # a bug, not a panel answer: keep the page up, keep the traceback
        logger.exception("Unexpected error calling %r", client)
        return Outcome(error=f"Unexpected error ({type(exc).__name__}); see the portal's log.")

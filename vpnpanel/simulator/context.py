"""What every handler needs: the store, the fault injector, the call log and the run settings."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from vpnpanel.simulator import profiles
from vpnpanel.simulator.faults import Faults
from vpnpanel.simulator.startup import Startup
from vpnpanel.simulator.state import Client, Store

MAX_LOGGED_CALLS = 10_000
TOKEN_ENV = "PANEL_SIM_TOKEN"  # noqa: S105 (the name of the variable, not a secret)


class CallLog:
    """The API calls received, so tests can count what the portal sent to the panel."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[dict[str, Any]] = []

    def record(self, method: str, path: str, status: int | None, fault: str | None) -> None:
        entry = {
            "method": method,
            "path": path,
            "status": status,
            "fault": fault,
            "at": time.time(),
        }
        with self._lock:
            self._calls.append(entry)
            del self._calls[:-MAX_LOGGED_CALLS]

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


class WaitingCalls:
    """API calls now waiting out an injected latency or hang, so a test can tell that its call
    has arrived (``waiting_calls`` in ``/_sim/state``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def wait(self, seconds: float) -> None:
        with self._lock:
            self._count += 1
        try:
            time.sleep(seconds)
        finally:
            with self._lock:
                self._count -= 1


@dataclass
class Context:
    store: Store
    faults: Faults
    token: str
    startup: Startup = field(default_factory=Startup)
    seed: int = 0
    version: str = "2.1.0-sim"
    endpoint_host: str = "127.0.0.1"
    remote_knobs: bool = False
    calls: CallLog = field(default_factory=CallLog)
    waiting: WaitingCalls = field(default_factory=WaitingCalls)
    # client name -> raw session fields that replace the computed ones (not persisted)
    session_fields: dict[str, dict[str, str]] = field(default_factory=dict)
    # bumped by every wipe, so a call that began before one is not applied after it
    epoch: int = 0

    def wipe(self) -> None:
        """Back to the state of a fresh start with the same options (see ``/_sim/wipe``).

        Under the store's lock, so no read or write of the store sees a half-wiped panel.
        """
        with self.store.lock:
            self.epoch += 1
            self.store.wipe()
            self.startup.apply(self.store)
            self.faults.wipe()
            self.session_fields.clear()
            self.calls.clear()

    def peer(self, client: Client) -> profiles.Peer:
        network = self.store.network(client.network_name)
        return profiles.Peer(
            name=client.name,
            username=client.username,
            ipv4=client.ipv4,
            private_key=client.private_key,
            server_public_key=network.server_public_key,
            endpoint_host=self.endpoint_host,
        )

"""The state the command line asks for, kept so ``/_sim/wipe`` can return to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vpnpanel.simulator.errors import PanelError
from vpnpanel.simulator.state import NetworkSpec, Store

DEFAULT_NETWORK = NetworkSpec(name="default", subnet="10.8.0.0/24", description="Default network")


@dataclass(frozen=True)
class Startup:
    """``--network``, ``--fill-network`` and ``--exhaust-slots``, applied on start and on wipe."""

    networks: tuple[NetworkSpec, ...] = ()
    fill_networks: tuple[str, ...] = ()
    exhaust_slots: bool = False

    def apply(self, store: Store) -> None:
        """Add the networks that are missing (existing state wins), then fill and exhaust.

        No ``--network`` on an empty store gives the panel's ``default`` network.
        """
        specs = self.networks or (() if store.networks() else (DEFAULT_NETWORK,))
        for spec in specs:
            if not store.network_exists(spec.name):
                _labelled(f"--network {spec.name}", store.network_add, spec)
        for name in self.fill_networks:
            _labelled(f"--fill-network {name}", store.network_fill, name, filled=True)
        if self.exhaust_slots:
            store.exhaust_slots()


def _labelled(flag: str, action: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    """Run ``action``; a rejection names the flag that caused it, for the startup error."""
    try:
        action(*args, **kwargs)
    except PanelError as exc:
        raise PanelError(f"{flag}: {exc.message}", status=exc.status) from None

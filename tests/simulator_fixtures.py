"""Pytest plugin: a live panel simulator subprocess per test (register via ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from vpnpanel.simulator.process import SimulatorProcess

SIMULATOR_NETWORKS = (
    "office=10.0.6.0/24:wireguard,openvpn,ikev2",
    "lab=10.0.7.0/29:wireguard,amneziawg",
)
SIMULATOR_SEED = 1234

SimulatorFactory = Callable[..., SimulatorProcess]


@pytest.fixture
def simulator_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorFactory]:
    """Start simulators with any ``SimulatorProcess`` options; all are stopped after the test.

    Without ``data_dir`` each gets a fresh temporary one; without ``networks`` the office/lab pair.
    """
    started: list[SimulatorProcess] = []

    def start(**options: Any) -> SimulatorProcess:
        options.setdefault("networks", SIMULATOR_NETWORKS)
        options.setdefault("seed", SIMULATOR_SEED)
        data_dir = options.pop("data_dir", None) or tmp_path_factory.mktemp("simulator")
        process = SimulatorProcess(data_dir, **options)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def simulator(simulator_factory: SimulatorFactory) -> SimulatorProcess:
    """A running simulator: office 10.0.6.0/24 (wireguard, openvpn, ikev2), lab 10.0.7.0/29
    (wireguard, amneziawg; 5 usable IPs), 50 licence slots, seed 1234."""
    return simulator_factory()

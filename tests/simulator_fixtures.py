"""Pytest plugin: live panel simulators for tests (register via ``pytest_plugins``).

Starting and stopping a simulator costs ~0.4 s, so simulators with the default options are shared:
a session-wide pool hands each test a running one, wiped back to the state of a fresh start
(``POST /_sim/wipe``). Tests that want other options get a process of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from vpnpanel.simulator.process import SimulatorProcess
from vpnpanel.simulator.state import DEFAULT_SLOTS

SIMULATOR_NETWORKS = (
    "office=10.0.6.0/24:wireguard,openvpn,ikev2",
    "lab=10.0.7.0/29:wireguard,amneziawg",
)
SIMULATOR_SEED = 1234
DEFAULT_OPTIONS: Mapping[str, Any] = {
    "networks": SIMULATOR_NETWORKS,
    "seed": SIMULATOR_SEED,
    "slots": DEFAULT_SLOTS,
    "extra_args": (),
}

SimulatorFactory = Callable[..., SimulatorProcess]


class SimulatorPool:
    """Simulators with the default options, lent to one test at a time.

    Tests stop, restart or break the simulator they get, so each is revived (restarted on its port
    and data dir) and wiped before it is lent again, or replaced when that fails.
    """

    def __init__(self, make_dir: Callable[[], Path]) -> None:
        self._make_dir = make_dir
        self._idle: list[SimulatorProcess] = []
        self._all: list[SimulatorProcess] = []

    def acquire(self) -> SimulatorProcess:
        while self._idle:
            process = self._idle.pop()
            if _revived(process):
                return process
            self._all.remove(process)
        process = SimulatorProcess(self._make_dir(), **DEFAULT_OPTIONS)
        self._all.append(process)
        return process.start()

    def release(self, process: SimulatorProcess) -> None:
        self._idle.append(process)

    def close(self) -> None:
        for process in self._all:
            process.stop()
        self._all.clear()
        self._idle.clear()


def _revived(process: SimulatorProcess) -> bool:
    """Running (started again if a test stopped it) and wiped; ``False`` when it cannot be."""
    try:
        process.start()
        process.knob("POST", "wipe")
    except (RuntimeError, OSError, requests.RequestException):
        process.stop()
        return False
    return True


def is_default(options: Mapping[str, Any]) -> bool:
    """Whether ``options`` start a simulator that behaves like one with no options at all."""
    for name, value in options.items():
        if name not in DEFAULT_OPTIONS:
            return False
        if isinstance(value, list | tuple):
            value = tuple(value)
        if value != DEFAULT_OPTIONS[name]:
            return False
    return True


@pytest.fixture(scope="session")
def simulator_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorPool]:
    """Per pytest process, so per xdist worker."""
    pool = SimulatorPool(lambda: tmp_path_factory.mktemp("pooled-simulator"))
    yield pool
    pool.close()


@pytest.fixture
def simulator_factory(
    simulator_pool: SimulatorPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SimulatorFactory]:
    """Simulators for this test; each call gives a different one.

    With no options (or only the defaults: office/lab, seed 1234, 50 slots) a pooled one, wiped;
    with any other ``SimulatorProcess`` option a new process, stopped after the test. Without
    ``data_dir`` that one gets a fresh temporary dir; without ``networks`` the office/lab pair.
    """
    lent: list[SimulatorProcess] = []
    started: list[SimulatorProcess] = []

    def start(**options: Any) -> SimulatorProcess:
        if is_default(options):
            lent.append(simulator_pool.acquire())
            return lent[-1]
        options.setdefault("networks", SIMULATOR_NETWORKS)
        options.setdefault("seed", SIMULATOR_SEED)
        data_dir = options.pop("data_dir", None) or tmp_path_factory.mktemp("simulator")
        process = SimulatorProcess(data_dir, **options)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()
    for process in lent:
        simulator_pool.release(process)


@pytest.fixture
def simulator(simulator_factory: SimulatorFactory) -> SimulatorProcess:
    """A running simulator as freshly started: office 10.0.6.0/24 (wireguard, openvpn, ikev2),
    lab 10.0.7.0/29 (wireguard, amneziawg; 5 usable IPs), 50 licence slots, seed 1234."""
    return simulator_factory()

"""The test fixtures' pool: shared simulators come back running and wiped, whatever a test did."""

import socket
from collections.abc import Iterator

import pytest

from tests.simulator_fixtures import SIMULATOR_NETWORKS, SimulatorPool, is_default
from tests.vpnpanel.simulator.panel_http import create_client, ok


@pytest.fixture
def pool(tmp_path_factory) -> Iterator[SimulatorPool]:
    pool = SimulatorPool(lambda: tmp_path_factory.mktemp("pool"))
    yield pool
    pool.close()


def test_a_pool_lends_distinct_simulators_at_once(pool):
    first, second = pool.acquire(), pool.acquire()

    assert first is not second
    assert first.url != second.url


def test_a_returned_simulator_is_lent_again_wiped(pool):
    lent = pool.acquire()
    create_client(lent, name="left-over")
    lent.knob("POST", "faults", {"error_rate": 1})
    pool.release(lent)

    again = pool.acquire()

    assert again is lent
    assert ok(again, "GET", "client") == []
    assert again.knob("GET", "faults")["error_rate"] == 0


def test_a_stopped_simulator_is_started_again_on_its_port_with_its_token(pool):
    lent = pool.acquire()
    port, token = lent.port, lent.token
    lent.stop()
    pool.release(lent)

    again = pool.acquire()

    assert again is lent
    assert again.running
    assert (again.port, again.token) == (port, token)
    assert ok(again, "GET", "client") == []


def test_a_simulator_that_cannot_start_again_is_replaced(pool):
    lent = pool.acquire()
    lent.stop()
    with socket.create_server(("127.0.0.1", lent.port)):
        pool.release(lent)

        replacement = pool.acquire()

    assert replacement is not lent
    assert ok(replacement, "GET", "client") == []


@pytest.mark.parametrize(
    ("options", "shared"),
    [
        ({}, True),
        ({"networks": list(SIMULATOR_NETWORKS), "seed": 1234, "slots": 50}, True),
        ({"seed": 7}, False),
        ({"data_dir": "elsewhere"}, False),
        ({"extra_args": ["--exhaust-slots"]}, False),
        ({"version": "1.0"}, False),
    ],
)
def test_only_default_options_get_a_shared_simulator(options, shared):
    assert is_default(options) is shared

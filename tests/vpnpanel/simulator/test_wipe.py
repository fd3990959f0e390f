"""``POST /_sim/wipe``: back to the state of a fresh start with the same options, fast."""

import threading
import time

import pytest
import requests

from tests.vpnpanel.simulator.panel_http import call, create_client, ok
from vpnpanel.simulator.process import SimulatorProcess

START_OPTIONS = [
    pytest.param({}, id="office-and-lab"),
    pytest.param({"networks": ()}, id="default-network"),
    pytest.param(
        {"slots": 3, "extra_args": ["--fill-network=lab", "--exhaust-slots", "--latency-ms=1"]},
        id="filled-exhausted-slow",
    ),
]


def observable_state(simulator: SimulatorProcess) -> dict:
    """Everything the knobs and the API tell, except random keys and passwords."""
    return {
        "state": simulator.knob("GET", "state"),
        "calls": simulator.knob("GET", "calls"),
        "status": ok(simulator, "GET", "system/status"),
        "license": ok(simulator, "GET", "license"),
        "networks": ok(simulator, "GET", "network"),
        "free_ips": {
            n["name"]: ok(simulator, "GET", f"network/{n['name']}/available_ip")
            for n in ok(simulator, "GET", "network")
        },
        "online": ok(simulator, "GET", "client/online"),
    }


def use_everything(simulator: SimulatorProcess) -> str:
    """Change every kind of state a test can change; returns a one-time link issued meanwhile."""
    simulator.knob("POST", "faults", {"latency_ms": 0})
    simulator.knob("POST", "slots", {"total": 40, "valid": False, "expiration_date": "2030-01-01"})
    simulator.knob("POST", "networks", {"name": "extra", "subnet": "10.9.0.0/28"})
    first = simulator.knob("GET", "state")["networks"][0]["name"]
    simulator.knob("PUT", f"networks/{first}", {"openvpn": False, "description": "changed"})
    simulator.knob("POST", f"networks/{first}/free")
    simulator.knob("POST", "clients", {"name": "ghost", "network_name": "extra"})
    create_client(simulator)
    link = ok(simulator, "POST", "client/ghost/otl")
    simulator.knob(
        "POST", "clients/ghost/session", {"online": True, "fields": {"endpoint": "<b>x</b>"}}
    )
    simulator.knob(
        "POST",
        "faults",
        {"garbage_next": 3, "error_rate": 0.5, "rules": [{"path": ".", "count": None}]},
    )
    call(simulator, "GET", "client")
    return link


@pytest.mark.parametrize("options", START_OPTIONS)
def test_wipe_gives_the_state_of_a_fresh_start_with_the_same_options(
    simulator_factory, tmp_path, options
):
    fresh = simulator_factory(data_dir=tmp_path / "fresh", **options)
    expected = observable_state(fresh)
    used = simulator_factory(data_dir=tmp_path / "used", **options)
    link = use_everything(used)

    used.knob("POST", "wipe")

    assert observable_state(used) == expected
    assert requests.get(link, timeout=5).status_code == 404


def test_wipe_forgets_generated_names_and_session_fields(simulator):
    create_client(simulator)
    simulator.knob("POST", "clients", {"name": "c"})
    simulator.knob("POST", "clients/c/session", {"online": True, "fields": {"ip": "1.2.3.4"}})

    simulator.knob("POST", "wipe")

    assert create_client(simulator)["name"] == "client_1"
    simulator.knob("POST", "clients", {"name": "c"})
    simulator.knob("POST", "clients/c/session", {"online": True})
    sessions = {s["name"]: s for s in ok(simulator, "GET", "client/online")}
    assert sessions["c"]["ip"] == ok(simulator, "GET", "client/c")["ipv4"]


def statuses(simulator: SimulatorProcess, calls: int = 24) -> list[int]:
    return [call(simulator, "GET", "license").status_code for _ in range(calls)]


def test_wipe_reseeds_the_fault_dice_and_restores_start_faults(simulator_factory):
    simulator = simulator_factory(extra_args=["--error-rate=0.5"])
    first = statuses(simulator)

    simulator.knob("POST", "faults", {"error_rate": 0, "latency_ms": 5})
    simulator.knob("POST", "wipe")

    assert set(first) == {200, 500}
    assert statuses(simulator) == first
    assert simulator.knob("GET", "faults")["latency_ms"] == 0


def test_dice_after_a_wipe_roll_as_on_a_freshly_started_simulator(simulator_factory, tmp_path):
    used = simulator_factory(data_dir=tmp_path / "used")
    used.knob("POST", "faults", {"error_rate": 0.5})
    statuses(used, calls=7)
    used.knob("POST", "wipe")
    fresh = simulator_factory(data_dir=tmp_path / "fresh")

    for simulator in (used, fresh):
        simulator.knob("POST", "faults", {"error_rate": 0.5})

    assert statuses(used) == statuses(fresh)


def test_a_call_hanging_across_a_wipe_is_dropped_and_not_applied(simulator):
    simulator.knob("POST", "faults", {"timeout_rate": 1, "hang_seconds": 1.5})
    outcome: list[BaseException | requests.Response] = []

    def create() -> None:
        try:
            outcome.append(call(simulator, "POST", "client", {"name": "late"}, timeout=5))
        except requests.RequestException as exc:
            outcome.append(exc)

    hanging = threading.Thread(target=create)
    hanging.start()
    deadline = time.monotonic() + 5
    while simulator.knob("GET", "state")["waiting_calls"] != 1:  # the POST is being held
        assert time.monotonic() < deadline, "the POST never reached the simulator"
        time.sleep(0.02)
    simulator.knob("POST", "wipe")
    hanging.join()

    assert isinstance(outcome[0], requests.ConnectionError)
    assert ok(simulator, "GET", "client") == []
    assert [c["path"] for c in simulator.knob("GET", "calls")] == ["/api/v1/client"]


def test_wipe_takes_well_under_100_ms(simulator):
    for name in ("a", "b", "c"):
        create_client(simulator, name=name)
    timings = []
    for _ in range(3):
        started = time.monotonic()
        simulator.knob("POST", "wipe")
        timings.append(time.monotonic() - started)

    assert min(timings) < 0.1

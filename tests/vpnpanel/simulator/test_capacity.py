import threading

import pytest

from tests.vpnpanel.simulator.panel_http import call, create_client, ok, rejected

LAB_POOL = ["10.0.7.2", "10.0.7.3", "10.0.7.4", "10.0.7.5", "10.0.7.6"]


def test_ip_pool_runs_out(simulator):
    ips = [create_client(simulator, network_name="lab")["ipv4"] for _ in LAB_POOL]

    body = rejected(simulator, "POST", "client", {"network_name": "lab"})

    assert ips == LAB_POOL
    assert body["message"] == "No free IP address in the network"
    assert ok(simulator, "GET", "network/lab/available_ip") == []


def test_create_without_network_picks_the_first_with_a_free_ip(simulator):
    simulator.knob("POST", "networks/office/fill")

    assert create_client(simulator)["network_name"] == "lab"


def test_create_without_network_fails_when_every_pool_is_full(simulator):
    simulator.knob("POST", "networks/office/fill")
    simulator.knob("POST", "networks/lab/fill")

    assert rejected(simulator, "POST", "client", {})["message"] == (
        "No free IP address in the network"
    )


def test_filled_pool_refuses_creates_until_freed(simulator):
    network = simulator.knob("POST", "networks/office/fill")

    assert network["filled"] is True
    assert ok(simulator, "GET", "network/office/available_ip") == []
    rejected(simulator, "POST", "client", {"network_name": "office"})
    simulator.knob("POST", "networks/office/free")
    assert create_client(simulator, network_name="office")["ipv4"] == "10.0.6.2"


def test_licence_slots_run_out(simulator):
    simulator.knob("POST", "slots", {"total": 2})
    create_client(simulator)
    create_client(simulator)

    body = rejected(simulator, "POST", "client", {})

    assert body["message"] == "VPN account limit exceeded"
    assert ok(simulator, "GET", "system/status")["count_accounts_available"] == 2


def test_exhausting_slots_sets_total_to_current_count(simulator):
    create_client(simulator)

    assert simulator.knob("POST", "slots/exhaust") == {"total": 1, "used": 1}
    assert rejected(simulator, "POST", "client", {})["message"] == "VPN account limit exceeded"


def test_slots_flag_sets_the_licence_of_a_new_data_dir(simulator_factory):
    simulator = simulator_factory(slots=1)
    create_client(simulator)

    rejected(simulator, "POST", "client", {})
    assert ok(simulator, "GET", "license")["accounts"] == 1


def test_concurrent_creates_for_the_last_slot_let_exactly_one_win(simulator):
    simulator.knob("POST", "slots", {"total": 1})
    barrier = threading.Barrier(2)
    results = []

    def create(name):
        barrier.wait()
        results.append(call(simulator, "POST", "client", {"name": name}).json())

    threads = [threading.Thread(target=create, args=(n,)) for n in ("racer_a", "racer_b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    outcomes = sorted(r["result"] for r in results)
    assert outcomes == ["ERROR", "OK"]
    assert [r["message"] for r in results if r["result"] == "ERROR"] == [
        "VPN account limit exceeded"
    ]
    assert len(ok(simulator, "GET", "client")) == 1


def test_concurrent_creates_for_the_last_ip_let_exactly_one_win(simulator):
    for _ in range(4):
        create_client(simulator, network_name="lab")
    barrier = threading.Barrier(3)
    results = []

    def create():
        barrier.wait()
        results.append(call(simulator, "POST", "client", {"network_name": "lab"}).json())

    threads = [threading.Thread(target=create) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r["result"] for r in results) == ["ERROR", "ERROR", "OK"]
    assert ok(simulator, "GET", "network/lab")["clients"] == 5


def test_fill_network_flag_marks_pools_full_from_start(simulator_factory):
    simulator = simulator_factory(extra_args=["--fill-network=lab", "--fill-network", "office"])

    assert ok(simulator, "GET", "network/lab/available_ip") == []
    assert ok(simulator, "GET", "network/office/available_ip") == []
    assert rejected(simulator, "POST", "client", {})["message"] == (
        "No free IP address in the network"
    )
    assert [n["filled"] for n in simulator.knob("GET", "state")["networks"]] == [True, True]


def test_fill_network_flag_for_an_unknown_network_stops_the_start(simulator_factory):
    with pytest.raises(RuntimeError, match="--fill-network nope: Network not found"):
        simulator_factory(extra_args=["--fill-network=nope"])


def test_exhaust_slots_flag_sets_total_to_current_count_at_start(simulator_factory, tmp_path):
    first = simulator_factory(data_dir=tmp_path)
    create_client(first)
    first.stop()

    simulator = simulator_factory(data_dir=first.data_dir, extra_args=["--exhaust-slots"])

    assert simulator.knob("GET", "state")["slots"] == {"total": 1, "used": 1}
    assert rejected(simulator, "POST", "client", {})["message"] == "VPN account limit exceeded"

import requests

from tests.vpnpanel.simulator.panel_http import create_client, ok


def test_clients_survive_a_restart_with_the_same_keys_and_ip(simulator):
    client = create_client(simulator, name="keeper", network_name="lab")
    config = ok(simulator, "GET", "client/keeper/config/text")
    port = simulator.port

    simulator.restart()

    assert simulator.port == port
    assert ok(simulator, "GET", "client/keeper") == client
    assert ok(simulator, "GET", "client/keeper/config/text") == config


def test_used_one_time_link_stays_used_after_a_restart(simulator):
    create_client(simulator, name="c")
    link = ok(simulator, "POST", "client/c/otl")
    unused = ok(simulator, "POST", "client/c/otl")
    assert requests.get(link, timeout=5).status_code == 200

    simulator.restart()

    assert requests.get(link, timeout=5).status_code == 410
    assert requests.get(unused, timeout=5).status_code == 200


def test_ca_slots_networks_and_generated_names_survive_a_restart(simulator):
    create_client(simulator)
    profile = ok(simulator, "GET", "client/client_1/openvpn/profile")
    simulator.knob("POST", "slots", {"total": 7})
    simulator.knob("PUT", "networks/office", {"openvpn": False, "amneziawg": True})
    simulator.knob("POST", "networks", {"name": "added", "subnet": "10.5.0.0/24"})

    simulator.restart()

    assert ok(simulator, "GET", "system/status")["count_accounts_available"] == 7
    office = ok(simulator, "GET", "network/office")
    assert (office["openvpn"], office["amneziawg"]) == (False, True)
    assert "added" in [n["name"] for n in ok(simulator, "GET", "network")]
    simulator.knob("PUT", "networks/office", {"openvpn": True})
    assert ok(simulator, "GET", "client/client_1/openvpn/profile") == profile
    ok(simulator, "DELETE", "client/client_1")
    assert create_client(simulator)["name"] == "client_2"


def test_session_override_survives_a_restart(simulator):
    create_client(simulator, name="c")
    simulator.knob("POST", "clients/c/session", {"online": True})

    simulator.restart()

    assert [s["name"] for s in ok(simulator, "GET", "client/online")] == ["c"]


def test_existing_networks_win_over_network_flags(simulator_factory, tmp_path):
    first = simulator_factory(data_dir=tmp_path)
    first.stop()

    second = simulator_factory(
        data_dir=first.data_dir, networks=["office=10.0.9.0/24:openvpn", "extra=10.0.8.0/24"]
    )

    networks = {n["name"]: n for n in ok(second, "GET", "network")}
    assert networks["office"]["subnet"] == "10.0.6.0/24"
    assert networks["office"]["wireguard"] is True
    assert networks["extra"]["subnet"] == "10.0.8.0/24"


def test_sigterm_stops_the_simulator_cleanly(simulator):
    simulator.stop()

    assert simulator.returncode == 0
    assert not simulator.running

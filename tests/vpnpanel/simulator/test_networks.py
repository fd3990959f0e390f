import pytest
import requests

from tests.vpnpanel.simulator.panel_http import create_client, ok, rejected


def test_network_list_describes_each_network(simulator):
    networks = ok(simulator, "GET", "network")

    assert [n["name"] for n in networks] == ["office", "lab"]
    assert networks[1] == {
        "name": "lab",
        "description": "",
        "subnet": "10.0.7.0/29",
        "wireguard": True,
        "amneziawg": True,
        "openvpn": False,
        "ikev2": False,
        "bandwidth_download": 0,
        "bandwidth_upload": 0,
        "clients": 0,
    }


def test_network_detail_counts_clients(simulator):
    create_client(simulator, network_name="lab")

    assert ok(simulator, "GET", "network/lab")["clients"] == 1


def test_unknown_network_is_not_found(simulator):
    body = rejected(simulator, "GET", "network/nope", status=404)

    assert body["message"] == "Network not found"


def test_available_ips_skip_network_gateway_broadcast_and_taken(simulator):
    create_client(simulator, network_name="lab")

    assert ok(simulator, "GET", "network/lab/available_ip") == [
        "10.0.7.3",
        "10.0.7.4",
        "10.0.7.5",
        "10.0.7.6",
    ]


def test_available_ips_are_capped_at_256(simulator_factory):
    simulator = simulator_factory(networks=["big=10.1.0.0/16"])

    free = ok(simulator, "GET", "network/big/available_ip")

    assert len(free) == 256
    assert free[0] == "10.1.0.2"


def test_default_network_is_created_for_a_new_data_dir(simulator_factory):
    simulator = simulator_factory(networks=())

    (network,) = ok(simulator, "GET", "network")

    assert network["name"] == "default"
    assert network["subnet"] == "10.8.0.0/24"
    assert [network[p] for p in ("wireguard", "openvpn", "ikev2", "amneziawg")] == [
        True,
        True,
        True,
        False,
    ]


def test_network_added_behind_the_back_appears_in_the_api(simulator):
    simulator.knob(
        "POST",
        "networks",
        {"name": "extra", "subnet": "10.9.0.0/28", "amneziawg": True, "bandwidth_download": 50},
    )

    network = ok(simulator, "GET", "network/extra")

    assert network["amneziawg"] is True
    assert network["bandwidth_download"] == 50


def test_protocol_flags_can_be_flipped(simulator):
    simulator.knob("PUT", "networks/office", {"openvpn": False, "amneziawg": "1"})

    network = ok(simulator, "GET", "network/office")

    assert (network["openvpn"], network["amneziawg"]) == (False, True)


def test_overlapping_subnet_is_refused_with_a_clear_error(simulator):
    response = requests.post(
        simulator.url + "/_sim/networks",
        json={"name": "clash", "subnet": "10.0.6.128/25"},
        timeout=5,
    )

    body = response.json()
    assert response.status_code == 422, body
    assert body["message"] == "The subnet 10.0.6.128/25 overlaps network office (10.0.6.0/24)"
    assert body["errors"] == {"subnet": body["message"]}
    assert "clash" not in [n["name"] for n in ok(simulator, "GET", "network")]


def test_overlapping_network_flags_stop_the_start(simulator_factory):
    with pytest.raises(RuntimeError, match=r"--network wide: The subnet 10\.0\.0\.0/16 overlaps"):
        simulator_factory(networks=["narrow=10.0.6.0/24", "wide=10.0.0.0/16"])


def test_adjacent_subnets_do_not_overlap(simulator):
    simulator.knob("POST", "networks", {"name": "next_door", "subnet": "10.0.7.8/29"})

    assert create_client(simulator, network_name="next_door")["ipv4"] == "10.0.7.10"

import re
import time

import pytest
import requests

from tests.vpnpanel.simulator.panel_http import create_client, ok


def online_names(simulator) -> set[str]:
    return {s["name"] for s in ok(simulator, "GET", "client/online")}


def test_nobody_online_is_an_empty_list(simulator):
    assert ok(simulator, "GET", "client/online") == []


def test_forced_online_client_has_a_live_session(simulator):
    client = create_client(simulator, name="c", network_name="lab")
    simulator.knob("POST", "clients/c/session", {"online": True, "protocol": "amneziawg"})

    (session,) = ok(simulator, "GET", "client/online")

    now = time.time()
    assert session["name"] == "c"
    assert session["protocol"] == "amneziawg"
    assert session["network_name"] == "lab"
    assert session["ip"] == client["ipv4"]
    assert re.fullmatch(r"203\.0\.113\.\d{1,3}:5\d{4}", session["endpoint"])
    assert now - 121 <= session["latest_handshake"] <= now + 1
    assert session["transfer_rx"] > 0
    assert session["transfer_tx"] > 0


def test_session_transfer_grows_while_online(simulator):
    create_client(simulator, name="c")
    simulator.knob("POST", "clients/c/session", {"online": True})
    (first,) = ok(simulator, "GET", "client/online")

    time.sleep(1.1)

    (second,) = ok(simulator, "GET", "client/online")
    assert first["protocol"] == "wireguard"
    assert second["transfer_rx"] > first["transfer_rx"]
    assert second["transfer_tx"] > first["transfer_tx"]


def test_forced_offline_and_cleared_overrides(simulator):
    create_client(simulator, name="c")
    simulator.knob("POST", "clients/c/session", {"online": True})
    assert online_names(simulator) == {"c"}

    simulator.knob("POST", "clients/c/session", {"online": False})
    assert online_names(simulator) == set()

    simulator.knob("POST", "clients/c/session", {"online": True})
    simulator.knob("POST", "reset")
    assert simulator.knob("GET", "state")["session_overrides"] == {}


def test_disabled_client_is_offline_even_when_forced_online(simulator):
    create_client(simulator, name="c")
    simulator.knob("POST", "clients/c/session", {"online": True})

    ok(simulator, "PUT", "client/c", {"status": "disable"})
    assert online_names(simulator) == set()

    ok(simulator, "PUT", "client/c", {"status": "enable"})
    assert online_names(simulator) == {"c"}


def test_forcing_a_protocol_the_network_lacks_is_refused(simulator):
    create_client(simulator, name="c", network_name="office")

    with pytest.raises(requests.HTTPError) as excinfo:
        simulator.knob("POST", "clients/c/session", {"online": True, "protocol": "amneziawg"})

    assert excinfo.value.response.status_code == 422


def test_sessions_follow_the_seed(simulator_factory):
    names = [f"user{i}" for i in range(20)]
    first, second = simulator_factory(seed=7), simulator_factory(seed=7)
    for name in names:
        create_client(first, name=name)
        create_client(second, name=name)

    for _ in range(3):
        minute = int(time.time() // 60)
        a = ok(first, "GET", "client/online")
        b = ok(second, "GET", "client/online")
        if minute == int(time.time() // 60):
            break

    assert a, "with 20 clients someone is online in any given minute"
    assert [(s["name"], s["protocol"], s["endpoint"]) for s in a] == [
        (s["name"], s["protocol"], s["endpoint"]) for s in b
    ]
    assert {s["protocol"] for s in a} <= {"wireguard", "openvpn", "ikev2"}


def test_session_fields_knob_replaces_the_session_strings_verbatim(simulator):
    client = create_client(simulator, name="c", network_name="office")
    hostile = {
        "protocol": "<img src=x onerror=alert(1)>",
        "network_name": "<script>alert(1)</script>",
        "endpoint": "' onmouseover='x",
    }
    simulator.knob("POST", "clients/c/session", {"online": True, "fields": hostile})

    (session,) = ok(simulator, "GET", "client/online")

    assert {key: session[key] for key in hostile} == hostile
    assert session["name"] == "c"
    assert session["ip"] == client["ipv4"]

    simulator.knob("POST", "clients/c/session", {"online": True})
    (session,) = ok(simulator, "GET", "client/online")
    assert session["network_name"] == "office"
    assert session["protocol"] == "wireguard"


def test_session_fields_are_dropped_by_reset(simulator):
    create_client(simulator, name="c", network_name="office")
    simulator.knob("POST", "clients/c/session", {"online": True, "fields": {"ip": "bogus"}})

    simulator.knob("POST", "reset")
    simulator.knob("POST", "clients/c/session", {"online": True})

    (session,) = ok(simulator, "GET", "client/online")
    assert session["ip"] != "bogus"


@pytest.mark.parametrize("fields", [{"name": "other"}, {"endpoint": 5}, ["endpoint"]])
def test_session_fields_knob_refuses_other_keys_and_non_text(simulator, fields):
    create_client(simulator, name="c")

    with pytest.raises(requests.HTTPError) as excinfo:
        simulator.knob("POST", "clients/c/session", {"online": True, "fields": fields})

    assert excinfo.value.response.status_code == 422
    assert simulator.knob("GET", "state")["session_overrides"] == {}

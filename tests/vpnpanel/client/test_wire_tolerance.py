"""Old-panel (v1) envelopes and the loose typing real panels send are read like the v2 answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from vpnpanel import ClientStatus, Protocol, wire

from .samples import API, CLIENT, NETWORK, OLD_CLIENT, QR_BASE64, SESSION, WG_CONFIG, ok, old_ok


def test_old_envelope_client_with_allowed_ips_and_string_numbers(http, client):
    http.get(f"{API}client/ruslan_dom_pc", json=old_ok(OLD_CLIENT))

    record = client.get_client("ruslan_dom_pc")

    assert record.ipv4 == "10.0.110.4"
    assert (record.b_download, record.b_upload) == (12, 12)
    assert record.status is ClientStatus.ENABLE
    assert record.network_name == "77_87_125_209"


def test_old_envelope_client_list(http, client):
    http.get(f"{API}client", json=old_ok([OLD_CLIENT, OLD_CLIENT | {"name": "ruslan_pc"}]))

    assert [c.name for c in client.clients()] == ["ruslan_dom_pc", "ruslan_pc"]


def test_old_envelope_delete_with_success_text(http, client):
    http.delete(f"{API}client/NAME111", json={"error": "", "msg": "success", "status": "success"})

    assert client.delete_client("NAME111") is None


def test_old_envelope_config_text(http, client):
    http.get(f"{API}client/peer_10/config/text", json=old_ok(WG_CONFIG))

    assert client.wireguard_config("peer_10") == WG_CONFIG


@pytest.mark.parametrize(
    "envelope",
    [
        {"result": "ok", "data": {"valid": True}},
        {"result": "Success", "data": {"valid": True}},
        {"status": "SUCCESS", "msg": {"valid": True}, "error": ""},
    ],
)
def test_success_words_are_read_in_any_case(http, client, envelope):
    http.get(f"{API}license", json=envelope)

    assert client.license().valid


@pytest.mark.parametrize("status", ["enable", "Enable", "ENABLE", " enable "])
def test_client_status_is_read_in_any_case(http, client, status):
    http.get(f"{API}client/x", json=ok(CLIENT | {"status": status}))

    assert client.get_client("x").status is ClientStatus.ENABLE


@pytest.mark.parametrize("status", [{}, {"status": None}, {"status": ""}, {"status": "  "}])
def test_created_client_without_status_is_enabled(http, client, status):
    """The panel created the client; a missing status must not turn that into a failure."""
    payload = {key: value for key, value in CLIENT.items() if key != "status"} | status
    http.post(f"{API}client", json=ok(payload))
    http.get(f"{API}client/{CLIENT['name']}", json=old_ok(payload))

    assert client.create_client(name=CLIENT["name"]).status is ClientStatus.ENABLE
    assert client.get_client(CLIENT["name"]).status is ClientStatus.ENABLE


def test_bare_base64_qr_gets_the_data_uri_prefix(http, client):
    http.get(f"{API}client/x/config/qr", json=old_ok(QR_BASE64))

    assert client.wireguard_qr("x") == f"data:image/png;base64,{QR_BASE64}"


@pytest.mark.parametrize("payload", [[], None])
def test_nobody_online_is_an_empty_list(http, client, payload):
    http.get(f"{API}client/online", json=ok(payload))

    assert client.online_sessions() == []


def test_network_list_as_an_object_keyed_by_name(http, client):
    unnamed = {key: value for key, value in NETWORK.items() if key != "name"}
    http.get(f"{API}network", json=old_ok({"fra-main": unnamed, "waw": NETWORK | {"name": "waw"}}))

    assert [n.name for n in client.networks()] == ["fra-main", "waw"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (1, True),
        ("1", True),
        ("true", True),
        ("on", True),
        ("Yes", True),
        (False, False),
        (0, False),
        ("0", False),
        ("false", False),
        ("off", False),
        ("", False),
        (None, False),
    ],
)
def test_protocol_flags_accept_the_usual_spellings(http, client, raw, expected):
    http.get(f"{API}network/n", json=ok(NETWORK | {"ikev2": raw}))

    assert client.network("n").ikev2 is expected


def test_network_numbers_may_be_strings(http, client):
    http.get(
        f"{API}network/n",
        json=ok(NETWORK | {"bandwidth_download": "100", "bandwidth_upload": " 5 ", "clients": "3"}),
    )

    network = client.network("n")

    assert (network.bandwidth_download, network.bandwidth_upload, network.clients) == (100, 5, 3)


def test_system_status_numbers_may_be_strings(http, client):
    http.get(
        f"{API}system/status",
        json=old_ok({"version": 1.9, "count_accounts": "49", "count_accounts_available": "50"}),
    )

    status = client.system_status()

    assert (status.version, status.slots_free) == ("1.9", 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0, None),
        ("0", None),
        ("", None),
        (None, None),
        ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2023-11-14T22:13:20Z", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2023-11-15T00:13:20+02:00", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2023-11-14 22:13:20", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    ],
)
def test_latest_handshake_is_utc_or_none(http, client, raw, expected):
    http.get(f"{API}client/online", json=ok([SESSION | {"latest_handshake": raw}]))

    [session] = client.online_sessions()

    assert session.latest_handshake == expected
    assert session.latest_handshake is None or session.latest_handshake.tzinfo is not None


def test_old_session_fields_and_unknown_protocol_are_kept(http, client):
    old = {
        "name": "peer_10",
        "allowed_ips": "10.0.105.18/32",
        "endpoint": "(none)",
        "latest_handshake": "0",
        "transfer_rx": "0",
        "transfer_tx": "12",
    }
    http.get(f"{API}client/online", json=old_ok([old, SESSION | {"protocol": "Hysteria"}]))

    old_session, new_session = client.online_sessions()

    assert old_session.protocol is Protocol.WIREGUARD
    assert (old_session.ip, old_session.endpoint, old_session.transfer_tx) == (
        "10.0.105.18",
        "",
        12,
    )
    assert new_session.protocol == "hysteria"


def test_available_ips_drop_host_route_suffix(http, client):
    http.get(f"{API}network/n/available_ip", json=old_ok(["10.0.6.5/32", "10.0.6.6"]))

    assert client.available_ips("n") == ["10.0.6.5", "10.0.6.6"]


def test_ikev2_profile_sent_as_an_object_becomes_json_text(http, client):
    http.get(f"{API}client/x/ikev2/profile", json=ok({"type": "ikev2-eap", "uuid": "u"}))

    assert json.loads(client.ikev2_profile("x")) == {"type": "ikev2-eap", "uuid": "u"}


def test_old_traffic_rows_with_extra_fields(http, client):
    rows = [{"account": "x", "date": "2022-11-01", "traffic_download": "7", "traffic_upload": 0}]
    http.get(f"{API}client/x/traffic/2022/11", json=old_ok(rows))

    [day] = client.traffic("x", 2022, 11)

    assert (day.day.isoformat(), day.download, day.upload) == ("2022-11-01", 7, 0)


def test_unwrap_accepts_bytes_text_and_decoded_objects():
    envelope = ok({"a": 1})

    assert wire.unwrap(200, json.dumps(envelope).encode()) == {"a": 1}
    assert wire.unwrap(200, json.dumps(envelope)) == {"a": 1}
    assert wire.unwrap(200, envelope) == {"a": 1}


def test_unwrap_prefers_data_over_msg():
    assert wire.unwrap(200, {"result": "OK", "data": [1], "msg": "ignored"}) == [1]


def test_unwrap_treats_204_as_an_empty_success():
    assert wire.unwrap(204, b"") is None

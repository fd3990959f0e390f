"""Every client method against the current (v2) envelope: path, method, body and typed result."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from unittest import mock

import pytest
import requests
import responses
from responses import matchers

from vpnpanel import (
    ClientStatus,
    LicenseInfo,
    Network,
    OnlineSession,
    PanelClient,
    Protocol,
    SystemStatus,
    TrafficDay,
    VpnClient,
)

from .samples import API, CLIENT, NETWORK, OTL_URL, QR_BASE64, SESSION, TOKEN, WG_CONFIG, ok


def test_system_status_reports_licence_slots(http, client):
    http.get(
        f"{API}system/status",
        json=ok(
            {
                "version": "2.1.0-sim",
                "count_accounts": 3,
                "count_accounts_available": 50,
                "license_valid": True,
            }
        ),
    )

    status = client.system_status()

    assert status == SystemStatus(
        version="2.1.0-sim", accounts_used=3, accounts_total=50, license_valid=True
    )
    assert status.slots_free == 47
    assert status.has_free_slot


def test_system_status_without_free_slot_says_so(http, client):
    http.get(
        f"{API}system/status",
        json=ok({"version": "2", "count_accounts": 50, "count_accounts_available": 50}),
    )

    status = client.system_status()

    assert status.slots_free == 0
    assert not status.has_free_slot
    assert status.license_valid is None


def test_license_parses_expiration_date(http, client):
    http.get(
        f"{API}license", json=ok({"valid": True, "accounts": 50, "expiration_date": "2027-12-31"})
    )

    assert client.license() == LicenseInfo(
        valid=True, accounts=50, expiration_date=date(2027, 12, 31)
    )


def test_license_without_expiry_has_no_date(http, client):
    http.get(f"{API}license", json=ok({"valid": False, "accounts": None, "expiration_date": None}))

    assert client.license() == LicenseInfo(valid=False, accounts=None, expiration_date=None)


def test_networks_returns_typed_networks(http, client):
    http.get(f"{API}network", json=ok([NETWORK]))

    [network] = client.networks()

    assert isinstance(network, Network)
    assert network.name == "fra-main"
    assert network.subnet == "10.0.6.0/24"
    assert (network.bandwidth_download, network.bandwidth_upload, network.clients) == (100, 50, 7)
    assert network.enabled_protocols == (Protocol.WIREGUARD, Protocol.OPENVPN)
    assert network.protocol_enabled("openvpn")
    assert not network.protocol_enabled(Protocol.IKEV2)


def test_network_fetches_one_network_by_name(http, client):
    http.get(f"{API}network/fra-main", json=ok(NETWORK))

    assert client.network("fra-main").description == "Frankfurt"


def test_available_ips_lists_free_addresses(http, client):
    http.get(f"{API}network/fra-main/available_ip", json=ok(["10.0.6.5", "10.0.6.6"]))

    assert client.available_ips("fra-main") == ["10.0.6.5", "10.0.6.6"]


def test_available_ips_empty_pool_is_an_empty_list(http, client):
    http.get(f"{API}network/fra-main/available_ip", json=ok([]))

    assert client.available_ips("fra-main") == []


def test_clients_lists_every_client(http, client):
    http.get(f"{API}client", json=ok([CLIENT, CLIENT | {"name": "other", "status": "disable"}]))

    clients = client.clients()

    assert [c.name for c in clients] == ["vpn-1-2-abcd", "other"]
    assert [c.is_enabled for c in clients] == [True, False]


def test_create_client_posts_only_given_fields(http, client):
    http.post(
        f"{API}client",
        json=ok(CLIENT),
        match=[matchers.json_params_matcher({"network_name": "fra-main", "name": "vpn-1-2-abcd"})],
    )

    created = client.create_client(network_name="fra-main", name="vpn-1-2-abcd")

    assert created == VpnClient(
        name="vpn-1-2-abcd",
        network_name="fra-main",
        ipv4="10.0.6.5",
        ipv6="fd00::5",
        username="user_1",
        password="S3cret-Pass",
        status=ClientStatus.ENABLE,
        b_download=20,
        b_upload=10,
        public_key=CLIENT["public_key"],
    )


def test_create_client_without_fields_lets_the_panel_choose(http, client):
    http.post(f"{API}client", json=ok(CLIENT), match=[matchers.json_params_matcher({})])

    assert client.create_client().name == "vpn-1-2-abcd"


def test_client_password_is_not_in_repr(http, client):
    http.get(f"{API}client/vpn-1-2-abcd", json=ok(CLIENT))

    assert "S3cret-Pass" not in repr(client.get_client("vpn-1-2-abcd"))


def test_update_client_puts_bandwidth_and_normalised_status(http, client):
    http.put(
        f"{API}client/vpn-1-2-abcd",
        json=ok(CLIENT | {"status": "disable", "b_download": 0}),
        match=[
            matchers.json_params_matcher({"b_download": 0, "b_upload": 10, "status": "disable"})
        ],
    )

    updated = client.update_client("vpn-1-2-abcd", b_download=0, b_upload=10, status="Disable")

    assert updated.status is ClientStatus.DISABLE
    assert not updated.is_enabled


def test_update_client_can_change_the_password(http, client):
    http.put(
        f"{API}client/vpn-1-2-abcd",
        json=ok(CLIENT | {"password": "n3w"}),
        match=[matchers.json_params_matcher({"password": "n3w"})],
    )

    assert client.update_client("vpn-1-2-abcd", password="n3w").password == "n3w"


def test_update_client_without_changes_is_a_programming_error(client):
    with pytest.raises(ValueError, match="at least one field"):
        client.update_client("vpn-1-2-abcd")


def test_update_client_rejects_unknown_status_locally(client):
    with pytest.raises(ValueError, match="paused"):
        client.update_client("vpn-1-2-abcd", status="paused")


def test_delete_client_returns_nothing(http, client):
    http.delete(f"{API}client/vpn-1-2-abcd", json=ok(None, "Client deleted"))

    assert client.delete_client("vpn-1-2-abcd") is None


def test_get_client_returns_the_record(http, client):
    http.get(f"{API}client/vpn-1-2-abcd", json=ok(CLIENT))

    assert client.get_client("vpn-1-2-abcd").ipv4 == "10.0.6.5"


@pytest.mark.parametrize(
    ("method", "path", "payload", "expected"),
    [
        ("wireguard_config", "config/text", WG_CONFIG, WG_CONFIG),
        ("amneziawg_config", "amneziawg/config", WG_CONFIG + "Jc = 4\n", WG_CONFIG + "Jc = 4\n"),
        (
            "openvpn_profile",
            "openvpn/profile",
            "client\n<ca>\nX\n</ca>\n",
            "client\n<ca>\nX\n</ca>\n",
        ),
        ("ikev2_profile", "ikev2/profile", '{"type": "ikev2-eap"}', '{"type": "ikev2-eap"}'),
        (
            "wireguard_qr",
            "config/qr",
            f"data:image/png;base64,{QR_BASE64}",
            f"data:image/png;base64,{QR_BASE64}",
        ),
        (
            "amneziawg_qr",
            "amneziawg/qr",
            f"data:image/png;base64,{QR_BASE64}",
            f"data:image/png;base64,{QR_BASE64}",
        ),
    ],
)
def test_config_and_profile_downloads_return_text(http, client, method, path, payload, expected):
    http.get(f"{API}client/vpn-1-2-abcd/{path}", json=ok(payload))

    assert getattr(client, method)("vpn-1-2-abcd") == expected


def test_create_otl_posts_and_returns_the_link(http, client):
    http.post(f"{API}client/vpn-1-2-abcd/otl", json=ok(OTL_URL))

    assert client.create_otl("vpn-1-2-abcd") == OTL_URL


def test_online_sessions_are_typed_with_utc_handshake(http, client):
    http.get(f"{API}client/online", json=ok([SESSION]))

    assert client.online_sessions() == [
        OnlineSession(
            client_name="vpn-1-2-abcd",
            protocol=Protocol.WIREGUARD,
            network_name="fra-main",
            ip="10.0.6.5",
            endpoint="203.0.113.7:51820",
            latest_handshake=datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
            transfer_rx=1024,
            transfer_tx=4096,
        )
    ]


def test_traffic_sends_the_month_unpadded_and_returns_days(http, client):
    http.get(
        f"{API}client/vpn-1-2-abcd/traffic/2026/3",
        json=ok([{"date": "2026-03-01", "traffic_download": 123, "traffic_upload": 45}]),
    )

    assert client.traffic("vpn-1-2-abcd", 2026, 3) == [
        TrafficDay(day=date(2026, 3, 1), download=123, upload=45)
    ]


@pytest.mark.parametrize("month", [0, 13])
def test_traffic_rejects_impossible_months_locally(client, month):
    with pytest.raises(ValueError, match="Month"):
        client.traffic("vpn-1-2-abcd", 2026, month)


def test_openapi_returns_the_bare_document(http, client):
    document = {"openapi": "3.0.3", "paths": {"/client": {}}}
    http.get(f"{API}openapi.json", json=document)

    assert client.openapi() == document


def test_every_call_sends_token_accept_and_user_agent(http, client):
    call = http.get(f"{API}license", json=ok({"valid": True}))

    client.license()

    headers = call.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("vpn-portal/")


def test_every_call_has_a_timeout_verifies_tls_and_does_not_follow_redirects(http, make_client):
    session = requests.Session()
    http.get(f"{API}license", json=ok({"valid": True}))

    with mock.patch.object(session, "request", wraps=session.request) as request:
        make_client(session=session).license()

    kwargs = request.call_args.kwargs
    assert kwargs["timeout"] == (5, 20)
    assert kwargs["verify"] is True
    assert kwargs["allow_redirects"] is False


def test_verify_tls_can_be_switched_off_explicitly(http, make_client):
    call = http.get(f"{API}license", json=ok({"valid": True}))

    make_client(verify_tls=False).license()

    assert call.calls[0].request.req_kwargs["verify"] is False


def test_names_are_quoted_as_one_path_segment(http, client):
    http.get(f"{API}client/a%20b%2Fc%3F", json=ok(CLIENT))

    client.get_client("a b/c?")

    assert http.calls[0].request.url == f"{API}client/a%20b%2Fc%3F"


@pytest.mark.parametrize("name", ["", " ", ".", ".."])
def test_names_that_would_change_the_path_are_refused(client, name):
    with pytest.raises(ValueError, match="Invalid name"):
        client.get_client(name)


def test_context_manager_closes_its_own_session():
    with mock.patch("requests.Session.close") as close, PanelClient("https://p.example", "t"):
        pass

    close.assert_called_once()


def test_an_injected_session_is_left_open_for_its_owner():
    session = mock.Mock()
    with PanelClient("https://p.example", "t", session=session):
        pass

    session.close.assert_not_called()


def test_an_injected_session_is_used_for_calls():
    session = mock.Mock()
    session.request.return_value = mock.Mock(
        status_code=200, content=json.dumps(ok({"valid": True})).encode(), headers={}
    )

    PanelClient("https://p.example", "t", session=session).license()

    assert session.request.call_args.args[:2] == ("GET", "https://p.example/api/v1/license")


@responses.activate
def test_client_works_with_default_timeouts_and_retry_policy():
    responses.get(f"{API}license", json=ok({"valid": True}))

    assert PanelClient("https://vpn-fra.example.com", TOKEN).license().valid

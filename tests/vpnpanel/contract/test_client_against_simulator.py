"""Contract: the panel client against the live simulator, for every endpoint of the panel API."""

import base64
import configparser
import datetime as dt
import io
import ipaddress
import json
import logging
import shutil
import subprocess
import traceback

import pytest
import requests
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from PIL import Image

from tests.services import service_unavailable
from vpnpanel import (
    ClientStatus,
    PanelAuthError,
    PanelBadResponse,
    PanelClient,
    PanelNotFound,
    PanelRejected,
    PanelUnreachable,
    Protocol,
)
from vpnpanel.client import RetryPolicy, Timeouts

FAST_RETRY = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, jitter=0.0)


@pytest.fixture
def calls() -> list:
    return []


@pytest.fixture
def panel(simulator, calls) -> PanelClient:
    client = PanelClient(
        simulator.url,
        simulator.token,
        name="sim",
        timeouts=Timeouts(connect=2, read=5),
        retry=FAST_RETRY,
        on_call=calls.append,
    )
    yield client
    client.close()


def _config_sections(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(strict=False)
    parser.optionxform = str
    parser.read_string(text)
    return {section: dict(parser[section]) for section in parser.sections()}


def _public_key_of(private_key_b64: str) -> str:
    private_key = X25519PrivateKey.from_private_bytes(base64.b64decode(private_key_b64))
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _decode_qr(data_uri: str) -> str:
    header, _, payload = data_uri.partition(",")
    assert header == "data:image/png;base64"
    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(payload))))
    return barcode.text


def test_system_status_and_license_describe_the_licence_slots(panel):
    status = panel.system_status()
    licence = panel.license()

    assert (status.accounts_used, status.accounts_total) == (0, 50)
    assert status.has_free_slot
    assert status.version
    assert licence.valid is True


def test_networks_list_their_subnets_and_protocol_flags(panel):
    networks = {network.name: network for network in panel.networks()}
    lab = panel.network("lab")

    assert set(networks) == {"office", "lab"}
    assert networks["office"].subnet == "10.0.6.0/24"
    assert set(networks["office"].enabled_protocols) == {
        Protocol.WIREGUARD,
        Protocol.OPENVPN,
        Protocol.IKEV2,
    }
    assert lab.protocol_enabled(Protocol.AMNEZIAWG)
    assert not lab.protocol_enabled(Protocol.OPENVPN)
    assert panel.available_ips("lab") == [f"10.0.7.{host}" for host in range(2, 7)]


def test_client_lifecycle_create_update_read_list_delete(panel):
    created = panel.create_client(network_name="office", name="alice")
    capped = panel.update_client("alice", b_download=100, b_upload=20)
    disabled = panel.update_client("alice", status=ClientStatus.DISABLE)
    read_back = panel.get_client("alice")
    listed = [client.name for client in panel.clients()]
    panel.delete_client("alice")

    assert created.network_name == "office"
    assert ipaddress.ip_address(created.ipv4) in ipaddress.ip_network("10.0.6.0/24")
    assert created.is_enabled
    assert created.username
    assert created.password
    assert (capped.b_download, capped.b_upload) == (100, 20)
    assert not disabled.is_enabled
    assert read_back == disabled
    assert listed == ["alice"]
    with pytest.raises(PanelNotFound):
        panel.get_client("alice")
    with pytest.raises(PanelNotFound):
        panel.delete_client("alice")
    assert panel.system_status().accounts_used == 0


def test_wireguard_config_is_valid_and_its_key_pair_matches(panel):
    client = panel.create_client(network_name="office", name="bob")

    config = _config_sections(panel.wireguard_config("bob"))

    assert _public_key_of(config["Interface"]["PrivateKey"]) == client.public_key
    assert config["Interface"]["Address"].split("/")[0] == client.ipv4
    assert config["Interface"]["DNS"]
    assert len(base64.b64decode(config["Peer"]["PublicKey"])) == 32
    assert config["Peer"]["Endpoint"].rsplit(":", 1)[1].isdigit()
    assert "0.0.0.0/0" in config["Peer"]["AllowedIPs"]


def test_wireguard_tools_accept_the_config_and_derive_the_same_public_key(panel, tmp_path):
    if not (shutil.which("wg-quick") and shutil.which("wg")):
        service_unavailable("wireguard-tools (wg, wg-quick) are not installed")
    client = panel.create_client(network_name="office", name="bea")
    conf = tmp_path / "wg0.conf"
    conf.write_text(panel.wireguard_config("bea"))
    conf.chmod(0o600)

    stripped = subprocess.run(
        ["wg-quick", "strip", str(conf)], capture_output=True, text=True, check=False
    )
    assert stripped.returncode == 0, stripped.stderr
    private_key = _config_sections(stripped.stdout)["Interface"]["PrivateKey"]
    derived = subprocess.run(
        ["wg", "pubkey"], input=private_key, capture_output=True, text=True, check=True
    )

    assert derived.stdout.strip() == client.public_key


def test_wireguard_qr_decodes_to_exactly_the_config_text(panel):
    panel.create_client(network_name="office", name="carol")

    assert _decode_qr(panel.wireguard_qr("carol")) == panel.wireguard_config("carol")


def test_amneziawg_config_and_qr_on_a_network_that_offers_it(panel):
    panel.create_client(network_name="lab", name="dave")

    text = panel.amneziawg_config("dave")

    assert "Jc" in _config_sections(text)["Interface"]
    assert _decode_qr(panel.amneziawg_qr("dave")) == text


def test_openvpn_and_ikev2_profiles(panel):
    client = panel.create_client(network_name="office", name="erin")

    ovpn = panel.openvpn_profile("erin")
    ikev2 = json.loads(panel.ikev2_profile("erin"))

    assert "<ca>" in ovpn
    assert "-----BEGIN CERTIFICATE-----" in ovpn
    assert ikev2["type"] == "ikev2-eap"
    assert ikev2["local"]["eap_id"] == client.username
    assert len(ikev2["remote"]["cert"]) > 500


def test_protocol_disabled_on_the_network_is_a_clear_rejection(panel):
    panel.create_client(network_name="office", name="frank")

    with pytest.raises(PanelRejected) as excinfo:
        panel.amneziawg_config("frank")

    assert excinfo.value.api_message == "Protocol is disabled on this network"
    assert excinfo.value.permanent


def test_one_time_link_works_exactly_once(panel):
    panel.create_client(network_name="office", name="gina")

    url = panel.create_otl("gina")

    assert requests.get(url, timeout=5).status_code == 200
    assert requests.get(url, timeout=5).status_code == 410


def test_online_sessions_report_a_connected_client_and_empty_means_offline(panel, simulator):
    panel.create_client(network_name="office", name="hank")
    simulator.knob("POST", "clients/hank/session", {"online": False})
    offline = [s for s in panel.online_sessions() if s.client_name == "hank"]
    simulator.knob("POST", "clients/hank/session", {"online": True, "protocol": "wireguard"})

    (session,) = [s for s in panel.online_sessions() if s.client_name == "hank"]

    assert offline == []
    assert session.protocol == Protocol.WIREGUARD
    assert session.network_name == "office"
    assert session.ip == panel.get_client("hank").ipv4
    assert session.latest_handshake <= dt.datetime.now(dt.UTC)
    assert session.transfer_rx >= 0


def test_traffic_has_one_row_per_day_up_to_today(panel):
    panel.create_client(network_name="office", name="ivan")
    today = dt.datetime.now(dt.UTC).date()

    days = panel.traffic("ivan", today.year, today.month)

    assert [day.day for day in days] == [
        today.replace(day=number) for number in range(1, today.day + 1)
    ]
    assert all(day.download >= 0 and day.upload >= 0 for day in days)
    with pytest.raises(PanelRejected, match="Wrong year setting"):
        panel.traffic("ivan", 1999, 1)


def test_openapi_document_lists_every_endpoint_the_client_calls(panel):
    paths = set(panel.openapi()["paths"])

    expected = {
        "/api/v1/system/status", "/api/v1/license", "/api/v1/network",
        "/api/v1/network/{name}", "/api/v1/network/{name}/available_ip", "/api/v1/client",
        "/api/v1/client/{name}", "/api/v1/client/{name}/config/text",
        "/api/v1/client/{name}/config/qr", "/api/v1/client/{name}/amneziawg/config",
        "/api/v1/client/{name}/amneziawg/qr", "/api/v1/client/{name}/openvpn/profile",
        "/api/v1/client/{name}/ikev2/profile", "/api/v1/client/{name}/otl",
        "/api/v1/client/online", "/api/v1/client/{name}/traffic/{year}/{month}",
    }  # fmt: skip
    assert expected <= paths


def test_state_survives_a_simulator_restart(panel, simulator):
    before = panel.create_client(network_name="office", name="judy")
    config_before = panel.wireguard_config("judy")
    used_link = panel.create_otl("judy")
    requests.get(used_link, timeout=5)

    simulator.restart()

    assert panel.get_client("judy") == before
    assert panel.wireguard_config("judy") == config_before
    assert requests.get(used_link, timeout=5).status_code == 410
    assert panel.system_status().accounts_used == 1


def test_wrong_token_is_an_auth_error(simulator):
    wrong = PanelClient(simulator.url, "not-the-token", retry=FAST_RETRY)

    with pytest.raises(PanelAuthError) as excinfo:
        wrong.system_status()

    assert excinfo.value.permanent


def test_business_rejections_keep_the_panel_message(panel, simulator):
    panel.create_client(network_name="lab", name="kim")
    simulator.knob("POST", "slots", {"total": 1})

    with pytest.raises(PanelRejected, match="The name is already in use"):
        panel.create_client(network_name="lab", name="kim")
    with pytest.raises(PanelRejected, match="VPN account limit exceeded"):
        panel.create_client(network_name="lab", name="lee")


def test_full_pool_shows_no_free_ip_and_create_is_rejected(panel, simulator):
    simulator.knob("POST", "networks/lab/fill")

    assert panel.available_ips("lab") == []
    with pytest.raises(PanelRejected, match="No free IP address in the network"):
        panel.create_client(network_name="lab", name="mia")


def test_dropped_create_response_is_unreachable_but_the_client_exists_once(panel, simulator):
    simulator.knob("POST", "faults", {"drop_after_write_next": 1})

    with pytest.raises(PanelUnreachable) as excinfo:
        panel.create_client(network_name="office", name="ned")

    assert excinfo.value.transient
    assert [client.name for client in panel.clients()] == ["ned"]
    assert [(c.method, c.path) for c in simulator_calls(simulator, "POST")] == [("POST", "client")]


def simulator_calls(simulator, method: str) -> list:
    class Call:
        def __init__(self, row: dict) -> None:
            self.method, self.path = row["method"], row["path"].removeprefix("/api/v1/")

    return [Call(row) for row in simulator.knob("GET", "calls") if row["method"] == method]


def test_html_error_page_on_a_read_is_retried_and_then_succeeds(panel, simulator, calls):
    simulator.knob("POST", "faults", {"html_error_next": 1})

    status = panel.system_status()

    assert status.accounts_total == 50
    assert [(call.status, call.outcome) for call in calls] == [(502, "error"), (200, "ok")]


def test_garbage_body_is_a_bad_response(panel, simulator):
    simulator.knob("POST", "faults", {"garbage_next": 5})

    with pytest.raises(PanelBadResponse):
        panel.create_client(network_name="office", name="olga")


def test_hanging_panel_times_out_as_unreachable(simulator):
    simulator.knob("POST", "faults", {"timeout_rate": 1.0, "hang_seconds": 3})
    hurried = PanelClient(
        simulator.url, simulator.token, timeouts=Timeouts(connect=1, read=0.5), retry=FAST_RETRY
    )

    with pytest.raises(PanelUnreachable) as excinfo:
        hurried.system_status()

    assert excinfo.value.transient


def test_tls_to_a_plain_http_panel_fails_as_unreachable(simulator):
    port = simulator.url.rsplit(":", 1)[1]
    secure = PanelClient.from_parts(
        hostname="127.0.0.1", port=int(port), secure=True, token=simulator.token, retry=FAST_RETRY
    )

    with pytest.raises(PanelUnreachable, match=r"TLS|SSL"):
        secure.system_status()


def test_token_never_appears_in_logs_exceptions_or_call_records(simulator, calls, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="vpnpanel")
    client = PanelClient(
        simulator.url, simulator.token, name="sim", retry=FAST_RETRY, on_call=calls.append
    )
    errors = []
    client.create_client(network_name="office", name="pat")
    simulator.knob("POST", "faults", {"html_error_next": 1})
    client.get_client("pat")
    client.update_client("pat", b_download=5, password="n3w-Secret-pw")
    for failing in (lambda: client.get_client("nobody"), lambda: client.create_client(name="x y")):
        try:
            failing()
        except Exception as exc:
            errors.append(exc)
    simulator.knob("POST", "faults", {"drop_after_write_next": FAST_RETRY.attempts})
    with pytest.raises(PanelUnreachable) as dropped:
        client.update_client("pat", b_upload=7)
    errors.append(dropped.value)

    seen = [repr(client), caplog.text, *map(str, errors), *map(repr, errors)]
    seen += ["".join(traceback.format_exception(error)) for error in errors]
    seen += [repr(error.args) for error in errors]
    seen += [json.dumps(call.as_dict(), default=str) for call in calls]
    assert "Panel call" in caplog.text
    assert len(errors) == 3
    assert len(calls) >= 6
    assert all(simulator.token not in text for text in seen)
    assert all("n3w-Secret-pw" not in text for text in seen)

import base64
import io
import json

import zxingcpp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from PIL import Image

from tests.vpnpanel.simulator.panel_http import create_client, ok, rejected

DATA_URI_PREFIX = "data:image/png;base64,"


def parse_wg_config(text: str) -> dict[str, dict[str, str]]:
    """wg-quick syntax: ``[Section]`` headers, then ``Key = Value`` lines."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition(" = ")
        assert sep, line
        assert current is not None, line
        current[key] = value
    return sections


def key_bytes(value: str) -> bytes:
    raw = base64.b64decode(value, validate=True)
    assert len(raw) == 32
    return raw


def public_of(private: str) -> str:
    key = X25519PrivateKey.from_private_bytes(key_bytes(private))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def qr_text(data_uri: str) -> str:
    assert data_uri.startswith(DATA_URI_PREFIX)
    image = Image.open(io.BytesIO(base64.b64decode(data_uri.removeprefix(DATA_URI_PREFIX))))
    assert image.format == "PNG"
    (barcode,) = zxingcpp.read_barcodes(image)
    return barcode.text


def test_wireguard_config_is_a_valid_wg_quick_file(simulator):
    client = create_client(simulator, name="c")

    config = parse_wg_config(ok(simulator, "GET", "client/c/config/text"))

    assert set(config) == {"Interface", "Peer"}
    assert config["Interface"]["Address"] == f"{client['ipv4']}/32"
    assert config["Interface"]["DNS"] == "1.1.1.1, 8.8.8.8"
    key_bytes(config["Interface"]["PrivateKey"])
    key_bytes(config["Peer"]["PublicKey"])
    assert config["Peer"]["Endpoint"] == "127.0.0.1:51820"
    assert config["Peer"]["AllowedIPs"] == "0.0.0.0/0, ::/0"
    assert config["Peer"]["PersistentKeepalive"] == "25"


def test_public_key_of_client_matches_private_key_in_config(simulator):
    client = create_client(simulator, name="c")

    config = parse_wg_config(ok(simulator, "GET", "client/c/config/text"))

    assert public_of(config["Interface"]["PrivateKey"]) == client["public_key"]


def test_clients_of_one_network_share_the_server_key_but_not_their_own(simulator):
    create_client(simulator, name="a")
    create_client(simulator, name="b")

    a = parse_wg_config(ok(simulator, "GET", "client/a/config/text"))
    b = parse_wg_config(ok(simulator, "GET", "client/b/config/text"))

    assert a["Peer"]["PublicKey"] == b["Peer"]["PublicKey"]
    assert a["Interface"]["PrivateKey"] != b["Interface"]["PrivateKey"]


def test_endpoint_host_flag_is_used_in_configs(simulator_factory):
    simulator = simulator_factory(endpoint_host="vpn.example.net")
    create_client(simulator, name="c")

    config = parse_wg_config(ok(simulator, "GET", "client/c/config/text"))

    assert config["Peer"]["Endpoint"] == "vpn.example.net:51820"


def test_wireguard_qr_encodes_exactly_the_config_text(simulator):
    create_client(simulator, name="c")

    text = ok(simulator, "GET", "client/c/config/text")

    assert qr_text(ok(simulator, "GET", "client/c/config/qr")) == text


def test_amneziawg_config_adds_obfuscation_and_has_its_own_qr(simulator):
    create_client(simulator, name="c", network_name="lab")

    text = ok(simulator, "GET", "client/c/amneziawg/config")

    interface = parse_wg_config(text)["Interface"]
    assert {"Jc", "Jmin", "Jmax", "S1", "S2", "H1", "H2", "H3", "H4"} <= set(interface)
    assert len({interface[f"H{i}"] for i in range(1, 5)}) == 4
    assert qr_text(ok(simulator, "GET", "client/c/amneziawg/qr")) == text


def test_disabled_protocol_is_refused(simulator):
    create_client(simulator, name="o", network_name="office")
    create_client(simulator, name="l", network_name="lab")

    for path in ("client/o/amneziawg/config", "client/o/amneziawg/qr", "client/l/openvpn/profile"):
        body = rejected(simulator, "GET", path)
        assert body["message"] == "Protocol is disabled on this network"
    rejected(simulator, "GET", "client/l/ikev2/profile")


def test_wireguard_turned_off_refuses_the_config(simulator):
    create_client(simulator, name="c")
    simulator.knob("PUT", "networks/office", {"wireguard": False})

    rejected(simulator, "GET", "client/c/config/text")
    rejected(simulator, "GET", "client/c/config/qr")


def test_openvpn_profile_embeds_the_ca_certificate(simulator):
    create_client(simulator, name="c")

    profile = ok(simulator, "GET", "client/c/openvpn/profile")

    lines = profile.splitlines()
    assert {"client", "dev tun", "proto udp", "remote 127.0.0.1 1194", "auth-user-pass"} <= set(
        lines
    )
    pem = profile.split("<ca>\n", 1)[1].split("</ca>", 1)[0]
    certificate = x509.load_pem_x509_certificate(pem.encode())
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_ikev2_profile_is_sswan_json_with_the_same_ca(simulator):
    client = create_client(simulator, name="c")

    profile = json.loads(ok(simulator, "GET", "client/c/ikev2/profile"))
    ovpn = ok(simulator, "GET", "client/c/openvpn/profile")

    assert profile["type"] == "ikev2-eap"
    assert profile["remote"]["addr"] == "127.0.0.1"
    assert profile["local"] == {"eap_id": client["username"]}
    assert len(profile["remote"]["cert"]) > 500
    der = base64.b64decode(profile["remote"]["cert"], validate=True)
    pem = ovpn.split("<ca>\n", 1)[1].split("</ca>", 1)[0]
    assert x509.load_der_x509_certificate(der) == x509.load_pem_x509_certificate(pem.encode())


def test_profiles_of_unknown_client_are_not_found(simulator):
    for path in ("config/text", "config/qr", "openvpn/profile", "ikev2/profile"):
        body = rejected(simulator, "GET", f"client/ghost/{path}", status=404)
        assert body["message"] == "Account not found"

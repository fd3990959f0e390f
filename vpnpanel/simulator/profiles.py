"""Key material and the per-protocol client profiles the panel hands out.

Everything here is real enough for a client to accept: X25519 keys in WireGuard's base64 form,
wg-quick syntax, a QR that encodes the exact config text, and a CA certificate that OpenVPN and
strongSwan would parse.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import secrets
import uuid
from dataclasses import dataclass

import segno
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.x509.oid import NameOID

WIREGUARD_PORT = 51820
AMNEZIAWG_PORT = 51821
OPENVPN_PORT = 1194
DNS = "1.1.1.1, 8.8.8.8"


@dataclass(frozen=True)
class Peer:
    """What a profile needs to know about one client and the server side of its network."""

    name: str
    username: str
    ipv4: str
    private_key: str
    server_public_key: str
    endpoint_host: str


def wireguard_keypair() -> tuple[str, str]:
    """A fresh (private, public) pair, each the base64 of 32 raw bytes, as ``wg genkey`` gives."""
    key = X25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


def amneziawg_parameters() -> dict[str, int]:
    """Junk-packet and header obfuscation values; H1-H4 must be distinct and above 4."""
    headers = set()
    while len(headers) < 4:
        headers.add(5 + secrets.randbelow(2**31 - 5))
    params = {"Jc": 4, "Jmin": 40, "Jmax": 70}
    params["S1"] = 15 + secrets.randbelow(136)
    params["S2"] = 15 + secrets.randbelow(136)
    params.update({f"H{i}": value for i, value in enumerate(sorted(headers), start=1)})
    return params


def wireguard_config(
    peer: Peer, *, port: int = WIREGUARD_PORT, extra: dict[str, int] | None = None
) -> str:
    interface = [
        "[Interface]",
        f"PrivateKey = {peer.private_key}",
        f"Address = {peer.ipv4}/32",
        f"DNS = {DNS}",
    ]
    interface += [f"{key} = {value}" for key, value in (extra or {}).items()]
    server = [
        "[Peer]",
        f"PublicKey = {peer.server_public_key}",
        f"Endpoint = {peer.endpoint_host}:{port}",
        "AllowedIPs = 0.0.0.0/0, ::/0",
        "PersistentKeepalive = 25",
    ]
    return "\n".join([*interface, "", *server]) + "\n"


def amneziawg_config(peer: Peer, params: dict[str, int]) -> str:
    """AmneziaWG runs as its own interface, hence its own port."""
    return wireguard_config(peer, port=AMNEZIAWG_PORT, extra=params)


def qr_data_uri(text: str) -> str:
    """A PNG QR code of exactly ``text``, as the data URI the panel returns."""
    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=5, border=4)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def new_certificate_authority(common_name: str) -> tuple[str, str]:
    """A self-signed CA (PEM certificate, PEM key), made once per data dir and then persisted."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PUQVPNCP simulator"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return cert_pem, key_pem


def openvpn_profile(peer: Peer, ca_pem: str) -> str:
    lines = [
        f"# PUQVPNCP simulator profile for {peer.name}",
        "client",
        "dev tun",
        "proto udp",
        f"remote {peer.endpoint_host} {OPENVPN_PORT}",
        "resolv-retry infinite",
        "nobind",
        "persist-key",
        "persist-tun",
        "remote-cert-tls server",
        "auth-user-pass",
        "auth SHA256",
        "data-ciphers AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305",
        "verb 3",
        "<ca>",
        ca_pem.strip(),
        "</ca>",
    ]
    return "\n".join(lines) + "\n"


def ikev2_profile(peer: Peer, ca_pem: str) -> str:
    """A strongSwan ``.sswan`` document; its uuid is stable per client key."""
    der = x509.load_pem_x509_certificate(ca_pem.encode()).public_bytes(serialization.Encoding.DER)
    profile = {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"puqvpncp-sim:{peer.private_key}")),
        "name": peer.endpoint_host,
        "type": "ikev2-eap",
        "remote": {
            "addr": peer.endpoint_host,
            "id": peer.endpoint_host,
            "cert": base64.b64encode(der).decode(),
        },
        "local": {"eap_id": peer.username},
    }
    return json.dumps(profile, indent=2)

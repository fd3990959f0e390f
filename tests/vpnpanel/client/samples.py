"""Panel answers as docs/panel-wire.md pins them (v2) and as old panels sent them (v1, seed 002)."""

from __future__ import annotations

from typing import Any

BASE_URL = "https://vpn-fra.example.com"
API = f"{BASE_URL}/api/v1/"
TOKEN = "tok-5f1e9a7c3b2d4e6f8a0b1c2d3e4f5a6b"

NETWORK: dict[str, Any] = {
    "name": "fra-main",
    "description": "Frankfurt",
    "subnet": "10.0.6.0/24",
    "wireguard": True,
    "amneziawg": False,
    "openvpn": True,
    "ikev2": False,
    "bandwidth_download": 100,
    "bandwidth_upload": 50,
    "clients": 7,
}

CLIENT: dict[str, Any] = {
    "name": "vpn-1-2-abcd",
    "network_name": "fra-main",
    "ipv4": "10.0.6.5",
    "ipv6": "fd00::5",
    "username": "user_1",
    "password": "S3cret-Pass",
    "status": "enable",
    "b_download": 20,
    "b_upload": 10,
    "public_key": "sdxzHEBOdgm9ZzRn2tw2bzdnU1v7mUp1plpAU+craSo=",
}

OLD_CLIENT: dict[str, Any] = {
    "allowed_IPs": "10.0.110.4/32",
    "b_download": "12",
    "b_upload": "12",
    "mangle": "322",
    "name": "ruslan_dom_pc",
    "password": "FE*37#L2WC",
    "private_key": "UN75r5fizeA5jaCAzF7/nOTTynu67ngsm4jxfiHaHGI=",
    "public_key": "sdxzHEBOdgm9ZzRn2tw2bzdnU1v7mUp1plpAU+craSo=",
    "status": "Enable",
    "username": "user_217",
    "wg_name": "77_87_125_209",
}

SESSION: dict[str, Any] = {
    "name": "vpn-1-2-abcd",
    "protocol": "wireguard",
    "network_name": "fra-main",
    "ip": "10.0.6.5",
    "endpoint": "203.0.113.7:51820",
    "latest_handshake": 1_700_000_000,
    "transfer_rx": 1024,
    "transfer_tx": 4096,
}

WG_CONFIG = (
    "[Interface]\nAddress = 10.0.6.5/24\n"
    "PrivateKey = GNuP0siryMimPSuF7Hnmw0D7gY7FXzoY6IgUmt1uuXc=\n"
    "\n[Peer]\nAllowedIPs = 0.0.0.0/0\nEndpoint = 198.51.100.1:51820\n"
)
QR_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4"
    "nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)
OTL_URL = "https://vpn-fra.example.com/otl/" + "ab" * 40


def ok(data: Any, message: str = "OK") -> dict[str, Any]:
    return {"result": "OK", "message": message, "data": data}


def failure(message: str, errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {"result": "ERROR", "message": message, "errors": errors or {}}


def old_ok(msg: Any) -> dict[str, Any]:
    return {"status": "success", "msg": msg, "error": ""}


def old_failure(error: str) -> dict[str, Any]:
    return {"status": "error", "msg": "", "error": error}

"""Input rules of the panel, with the error wording of the real one (seed 002)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from vpnpanel.simulator.errors import PanelError

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PROTOCOLS = ("wireguard", "amneziawg", "openvpn", "ikev2")
MAX_BANDWIDTH = 10000
WRONG_NAME = "Wrong name (only letters, numbers and '_', '-')"
WRONG_USERNAME = "Wrong Username (only letters, numbers and '_', '-')"
WRONG_BANDWIDTH = "Wrong bandwidth (0-10000)"
WRONG_STATUS = "Wrong status (enable|disable)"
WRONG_PASSWORD = "Wrong password (1-128 characters, no spaces)"  # noqa: S105


def name(value: Any, *, field: str = "name", message: str = WRONG_NAME) -> str:
    """A client, user or network name: letters, digits, ``_`` and ``-``."""
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise PanelError(message, field=field)
    return value


def username(value: Any) -> str:
    return name(value, field="username", message=WRONG_USERNAME)


def bandwidth(value: Any, *, field: str) -> int:
    """Mbit/s, 0 (unlimited) to 10000; real panels take numbers or numeric strings."""
    if isinstance(value, bool):
        raise PanelError(WRONG_BANDWIDTH, field=field)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_BANDWIDTH:
        raise PanelError(WRONG_BANDWIDTH, field=field)
    return value


def status(value: Any) -> str:
    if not isinstance(value, str) or value.strip().lower() not in ("enable", "disable"):
        raise PanelError(WRONG_STATUS, field="status")
    return value.strip().lower()


def password(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 128 or any(c.isspace() for c in value):
        raise PanelError(WRONG_PASSWORD, field="password")
    return value


def flag(value: Any, *, field: str) -> bool:
    """A protocol switch; old panels send ``"1"``/``"0"``/``"true"``, so accept those too."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("1", "0", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise PanelError(f"Wrong value for {field} (true|false)", field=field)


def subnet(value: Any) -> ipaddress.IPv4Network:
    """An IPv4 pool with room for at least one client beside the gateway."""
    try:
        network = ipaddress.IPv4Network(str(value), strict=True)
    except ValueError:
        raise PanelError("Wrong subnet (IPv4 CIDR, /8 to /30)", field="subnet") from None
    if not 8 <= network.prefixlen <= 30:
        raise PanelError("Wrong subnet (IPv4 CIDR, /8 to /30)", field="subnet")
    return network


def ipv4_in(value: Any, network: ipaddress.IPv4Network) -> str:
    """An explicitly requested client address, which must be a usable host of the pool."""
    try:
        address = ipaddress.IPv4Address(str(value).split("/")[0])
    except ValueError:
        raise PanelError("Wrong IP format", field="ipv4") from None
    if address not in network or address in reserved_addresses(network):
        message = "The IP address is not within the range of the wireguard server"
        raise PanelError(message, field="ipv4")
    return str(address)


def reserved_addresses(network: ipaddress.IPv4Network) -> set[ipaddress.IPv4Address]:
    """Network address, broadcast and the gateway (the first host) are never handed out."""
    return {network.network_address, network.broadcast_address, network.network_address + 1}


def protocols(value: Any) -> str:
    if value not in PROTOCOLS:
        raise PanelError(f"Wrong protocol ({'|'.join(PROTOCOLS)})", field="protocol")
    return value

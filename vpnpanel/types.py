"""Typed values returned by :class:`vpnpanel.client.PanelClient`; callers never see raw dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal


class Protocol(StrEnum):
    WIREGUARD = "wireguard"
    AMNEZIAWG = "amneziawg"
    OPENVPN = "openvpn"
    IKEV2 = "ikev2"


class ClientStatus(StrEnum):
    ENABLE = "enable"
    DISABLE = "disable"


@dataclass(frozen=True, slots=True)
class SystemStatus:
    """``GET system/status``: licence slots used / total (a panel without a licence allows 50)."""

    version: str
    accounts_used: int
    accounts_total: int
    license_valid: bool | None

    @property
    def slots_free(self) -> int:
        return max(self.accounts_total - self.accounts_used, 0)

    @property
    def has_free_slot(self) -> bool:
        return self.slots_free > 0


@dataclass(frozen=True, slots=True)
class LicenseInfo:
    valid: bool
    accounts: int | None
    expiration_date: date | None


@dataclass(frozen=True, slots=True)
class Network:
    """A panel network; bandwidths are in Mbit/s with 0 meaning unlimited."""

    name: str
    description: str
    subnet: str
    wireguard: bool
    amneziawg: bool
    openvpn: bool
    ikev2: bool
    bandwidth_download: int
    bandwidth_upload: int
    clients: int

    @property
    def enabled_protocols(self) -> tuple[Protocol, ...]:
        return tuple(p for p in Protocol if self.protocol_enabled(p))

    def protocol_enabled(self, protocol: Protocol | str) -> bool:
        return bool(getattr(self, Protocol(protocol).value))


@dataclass(frozen=True, slots=True)
class VpnClient:
    """A client (VPN account) on a panel; bandwidths are in Mbit/s with 0 meaning unlimited."""

    name: str
    network_name: str
    ipv4: str
    ipv6: str
    username: str
    password: str = field(repr=False)
    status: ClientStatus
    b_download: int
    b_upload: int
    public_key: str

    @property
    def is_enabled(self) -> bool:
        return self.status is ClientStatus.ENABLE


@dataclass(frozen=True, slots=True)
class OnlineSession:
    """One live session; transfer counters are bytes seen by the server (rx = client upload).

    ``protocol`` is a :class:`Protocol` when known; a protocol this code does not know yet is kept
    as its lower-case name rather than failing the whole list.
    """

    client_name: str
    protocol: Protocol | str
    network_name: str
    ip: str
    endpoint: str
    latest_handshake: datetime | None
    transfer_rx: int
    transfer_tx: int


@dataclass(frozen=True, slots=True)
class TrafficDay:
    """Bytes transferred by one client on one day."""

    day: date
    download: int
    upload: int


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP attempt against a panel, already redacted: safe to store in the module log."""

    panel: str
    method: str
    path: str
    status: int | None
    duration_ms: float
    request: Any
    response: Any
    outcome: Literal["ok", "error"]
    error: str
    attempt: int

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

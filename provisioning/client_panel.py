"""Panel-backed reads and writes of the client area: the VPN client card, configs, one-time links.

Every panel call here is a single attempt (a customer is waiting) and is written to the module
log. A failure never reaches the view as an exception: it becomes a customer-safe message in the
block it belongs to, and the rest of the page still renders. The panel's own error text is never
shown (it is untrusted and may be technical); templates escape every panel string anyway.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from provisioning.live import PROVISIONED_STATUSES, ServiceNotProvisioned
from provisioning.models import Service
from provisioning.module_log import ModuleLogRecorder
from provisioning.panels import panel_client_for
from vpnpanel import Network, PanelClient, PanelError, PanelNotFound, PanelUnreachable, Protocol
from vpnpanel import VpnClient as PanelVpnClient

logger = logging.getLogger(__name__)
T = TypeVar("T")

UNREACHABLE_MESSAGE = (
    "The VPN server could not be reached just now. Please try again in a minute; "
    "the rest of this page works as usual."
)
NOT_FOUND_MESSAGE = (
    "Your VPN account could not be found on the server. Our staff will look into it."
)
DISABLED_PROTOCOL_MESSAGE = "This protocol is not enabled for your VPN network."


@dataclass(frozen=True)
class ProtocolFile:
    """How one protocol's config is offered for download."""

    protocol: Protocol
    label: str
    extension: str
    content_type: str
    suffix: str = ""  # added to the client name, so two .conf files do not collide
    copyable: bool = True
    has_qr: bool = False


# Shown in this order.
PROTOCOL_FILES: dict[Protocol, ProtocolFile] = {
    Protocol.WIREGUARD: ProtocolFile(
        Protocol.WIREGUARD, "WireGuard", "conf", "text/plain; charset=utf-8", has_qr=True
    ),
    Protocol.AMNEZIAWG: ProtocolFile(
        Protocol.AMNEZIAWG,
        "AmneziaWG",
        "conf",
        "text/plain; charset=utf-8",
        suffix="-amneziawg",
        has_qr=True,
    ),
    Protocol.OPENVPN: ProtocolFile(
        Protocol.OPENVPN, "OpenVPN", "ovpn", "application/x-openvpn-profile"
    ),
    Protocol.IKEV2: ProtocolFile(
        Protocol.IKEV2,
        "IKEv2",
        "sswan",
        "application/vnd.strongswan.profile",
        copyable=False,
    ),
}
PROTOCOL_LABELS = {p.value: f.label for p, f in PROTOCOL_FILES.items()}


class ClientPanelError(Exception):
    """A panel call for the client area failed; ``message`` is safe to show a customer."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unreachable = unreachable


class ProtocolDisabled(Exception):
    """The protocol is not enabled on the client's network (the view answers 404)."""

    message = DISABLED_PROTOCOL_MESSAGE


@dataclass
class ConfigBlock:
    """One protocol's config as shown on the page; ``error`` replaces the text when set."""

    spec: ProtocolFile
    filename: str
    text: str = ""
    qr: str = ""
    qr_error: str = ""
    error: str = ""

    @property
    def protocol(self) -> str:
        return self.spec.protocol.value

    @property
    def label(self) -> str:
        return self.spec.label


@dataclass
class ClientAreaData:
    """The panel blocks of the service page; ``provisioned`` False means no panel blocks."""

    provisioned: bool
    client: PanelVpnClient | None = None
    client_error: str = ""
    network: Network | None = None
    configs: list[ConfigBlock] = field(default_factory=list)
    configs_error: str = ""

    @property
    def protocols(self) -> list[tuple[str, str]]:
        """(value, label) of the protocols enabled on the client's network, in display order."""
        if self.network is None:
            return []
        enabled = self.network.enabled_protocols
        return [(p.value, f.label) for p, f in PROTOCOL_FILES.items() if p in enabled]


def is_provisioned(service: Service) -> bool:
    return (
        service.status in PROVISIONED_STATUSES
        and service.server_id is not None
        and bool(service.remote_name)
    )


def config_filename(service: Service, spec: ProtocolFile) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", service.remote_name).strip("._") or "vpn"
    return f"{base}{spec.suffix}.{spec.extension}"


def protocol_file(protocol: str, extension: str) -> ProtocolFile | None:
    """The download spec for ``<protocol>.<extension>``, or None when there is no such file."""
    try:
        spec = PROTOCOL_FILES[Protocol(protocol)]
    except ValueError:
        return None
    return spec if spec.extension == extension else None


# Panel access -----------------------------------------------------------------------------------


def _panel(service: Service, action: str) -> PanelClient:
    recorder = ModuleLogRecorder(
        server=service.server, service=service, action=action, correlation_id=uuid.uuid4()
    )
    try:
        return panel_client_for(service.server, on_call=recorder, interactive=True)
    except ValueError as exc:  # no usable address or token
        logger.warning("Cannot build a panel client for %s: %s", service.server, exc)
        raise ClientPanelError(UNREACHABLE_MESSAGE) from None


def _ask(call: Callable[[], T], what: str) -> T:
    """Run one panel call; every failure becomes a ClientPanelError with a customer message."""
    try:
        return call()
    except PanelNotFound as exc:
        logger.warning("Panel has no %s: %s", what, exc)
        raise ClientPanelError(NOT_FOUND_MESSAGE) from None
    except PanelUnreachable as exc:
        logger.warning("Cannot reach the panel for %s: %s", what, exc)
        raise ClientPanelError(UNREACHABLE_MESSAGE, unreachable=True) from None
    except PanelError as exc:
        logger.warning("Cannot read %s from the panel: %s", what, exc)
        raise ClientPanelError(UNREACHABLE_MESSAGE) from None
    except Exception:  # a bug, not a panel answer: keep the page up, keep the traceback
        logger.exception("Unexpected error reading %s from the panel", what)
        raise ClientPanelError(UNREACHABLE_MESSAGE) from None


def client_area_view(service: Service) -> ClientAreaData:
    """Everything the service page shows from the panel, one attempt per call, never raising."""
    if not is_provisioned(service):
        return ClientAreaData(provisioned=False)
    data = ClientAreaData(provisioned=True)
    try:
        panel = _panel(service, "client_area")
    except ClientPanelError as exc:
        data.client_error = data.configs_error = exc.message
        return data
    try:
        _fill(service, panel, data)
    finally:
        panel.close()
    return data


def _fill(service: Service, panel: PanelClient, data: ClientAreaData) -> None:
    name = service.remote_name
    try:
        data.client = _ask(lambda: panel.get_client(name), "the client")
    except ClientPanelError as exc:
        data.client_error = exc.message
        if exc.unreachable:
            # The panel is down: do not wait for every other call to time out as well.
            data.configs_error = exc.message
            return
    network_name = data.client.network_name if data.client else service.network
    if not network_name:
        data.configs_error = NOT_FOUND_MESSAGE
        return
    try:
        data.network = _ask(lambda: panel.network(network_name), "the network")
    except ClientPanelError as exc:
        data.configs_error = exc.message
        return
    if data.client is None:
        return  # no account on the panel: its configs cannot exist either
    down = False  # once the panel stops answering, the remaining blocks say so without asking
    for protocol, spec in PROTOCOL_FILES.items():
        if not data.network.protocol_enabled(protocol):
            continue
        block = ConfigBlock(spec=spec, filename=config_filename(service, spec))
        data.configs.append(block)
        if down:
            block.error = UNREACHABLE_MESSAGE
            continue
        try:
            block.text = _ask(lambda p=protocol: _config_text(panel, p, name), spec.label)
        except ClientPanelError as exc:
            block.error, down = exc.message, exc.unreachable
            continue
        if spec.has_qr:
            try:
                block.qr = _ask(lambda p=protocol: _config_qr(panel, p, name), "a QR code")
            except ClientPanelError as exc:
                block.qr_error, down = exc.message, exc.unreachable


def _config_text(panel: PanelClient, protocol: Protocol, name: str) -> str:
    if protocol is Protocol.WIREGUARD:
        return panel.wireguard_config(name)
    if protocol is Protocol.AMNEZIAWG:
        return panel.amneziawg_config(name)
    if protocol is Protocol.OPENVPN:
        return panel.openvpn_profile(name)
    if protocol is Protocol.IKEV2:
        return panel.ikev2_profile(name)
    raise ValueError(f"No config for {protocol}")


def _config_qr(panel: PanelClient, protocol: Protocol, name: str) -> str:
    if protocol is Protocol.WIREGUARD:
        qr = panel.wireguard_qr(name)
    elif protocol is Protocol.AMNEZIAWG:
        qr = panel.amneziawg_qr(name)
    else:
        raise ValueError(f"No QR code for {protocol}")
    # Only a PNG data URI goes into <img src>: anything else is not an image we expect.
    if not re.fullmatch(r"data:image/png;base64,[A-Za-z0-9+/=\s]+", qr):
        raise PanelError("QR code is not a PNG data URI", transient=False)
    return qr


def config_download(service: Service, spec: ProtocolFile) -> str:
    """The config text of one protocol for download.

    Raises ServiceNotProvisioned when the service has no client on a panel, ProtocolDisabled when
    the protocol is off on the client's network, ClientPanelError when the panel cannot answer.
    """
    if not is_provisioned(service):
        raise ServiceNotProvisioned()
    panel = _panel(service, "client_config")
    try:
        name = service.remote_name
        client = _ask(lambda: panel.get_client(name), "the client")
        network = _ask(lambda: panel.network(client.network_name), "the network")
        if not network.protocol_enabled(spec.protocol):
            raise ProtocolDisabled()
        return _ask(lambda: _config_text(panel, spec.protocol, name), spec.label)
    finally:
        panel.close()


def create_one_time_link(service: Service) -> str:
    """A fresh single-use link (each call spends one on the panel; never retried).

    Raises ServiceNotProvisioned or ClientPanelError.
    """
    if not is_provisioned(service):
        raise ServiceNotProvisioned()
    panel = _panel(service, "client_otl")
    try:
        return _ask(lambda: panel.create_otl(service.remote_name), "a one-time link")
    finally:
        panel.close()


__all__ = [
    "DISABLED_PROTOCOL_MESSAGE",
    "NOT_FOUND_MESSAGE",
    "PROTOCOL_FILES",
    "UNREACHABLE_MESSAGE",
    "ClientAreaData",
    "ClientPanelError",
    "ConfigBlock",
    "ProtocolDisabled",
    "ProtocolFile",
    "client_area_view",
    "config_download",
    "create_one_time_link",
    "is_provisioned",
    "protocol_file",
]

"""Panel-backed reads and writes of the client area: the VPN client card, configs, one-time links.

Every panel call here is a single attempt (a customer is waiting) and is written to the module
log. A failure never reaches the view as an exception: it becomes a customer-safe message in the
block it belongs to, and the rest of the page still renders. The panel's own error text is never
shown (it is untrusted and may be technical); templates escape every panel string anyway.

The service page asks in parallel (:class:`provisioning.panel_calls.PanelCalls`) within
``CLIENT_AREA_PANEL_BUDGET_SECONDS``: blocks without an answer by then say so, and the page renders.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from django.conf import settings

from provisioning.live import ServiceNotProvisioned, is_provisioned
from provisioning.models import Service, ServiceStatus
from provisioning.module_log import ModuleLogRecorder
from provisioning.panel_calls import PanelCalls
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
SLOW_MESSAGE = (
    "The VPN server is answering slowly and this took too long. "
    "Please reload the page to try again."
)


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

    def __init__(self, message: str, *, unreachable: bool = False, timed_out: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unreachable = unreachable
        self.timed_out = timed_out  # the page's time budget ran out before the panel answered


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
    """Everything the service page shows from the panel, within one time budget, never raising."""
    if not is_provisioned(service):
        return ClientAreaData(provisioned=False)
    data = ClientAreaData(provisioned=True)
    with PanelCalls(action="client_area", service=service) as calls:
        try:
            _fill(_PageCalls(service, calls), data)
        except ClientPanelError as exc:  # no panel client could be built: nothing was asked
            data.client_error = data.configs_error = exc.message
    return data


class _PageCalls:
    """The panel calls of one page view, asked in rounds and waited for within one budget.

    The calls of a round run at the same time, so a dead panel costs one timeout, not one per call;
    after a round that found the panel down (or out of time) nothing more is asked.
    """

    def __init__(self, service: Service, calls: PanelCalls) -> None:
        self.service = service
        self.calls = calls
        self.deadline = time.monotonic() + settings.CLIENT_AREA_PANEL_BUDGET_SECONDS

    def start(self, call: Callable[[PanelClient], T], what: str) -> Future[T]:
        if time.monotonic() >= self.deadline:  # no time left to wait for an answer: do not ask
            skipped: Future[T] = Future()
            skipped.set_exception(ClientPanelError(SLOW_MESSAGE, timed_out=True))
            return skipped
        try:
            return self.calls.submit(self.service.server, partial(_ask_panel, call, what))
        except ValueError as exc:  # no usable address or token
            logger.warning("Cannot build a panel client for %s: %s", self.service.server, exc)
            raise ClientPanelError(UNREACHABLE_MESSAGE) from None

    def settle(self, futures: list[Future[T]]) -> dict[Future[T], T | ClientPanelError]:
        """Each call's answer or error; a call unanswered when the budget runs out is too slow."""
        done, late = wait(futures, timeout=max(0.0, self.deadline - time.monotonic()))
        if late:
            logger.warning(
                "Service %s: %d panel call(s) unanswered within the page's budget of %gs",
                self.service.pk,
                len(late),
                settings.CLIENT_AREA_PANEL_BUDGET_SECONDS,
            )
        answers: dict[Future[T], T | ClientPanelError] = {f: _answer(f) for f in done}
        for future in late:
            future.cancel()
            answers[future] = ClientPanelError(SLOW_MESSAGE, timed_out=True)
        return answers


def _answer(future: Future[T]) -> T | ClientPanelError:
    try:
        return future.result()
    except ClientPanelError as exc:
        return exc


def _ask_panel(call: Callable[[PanelClient], T], what: str, panel: PanelClient) -> T:
    return _ask(lambda: call(panel), what)


def _fill(page: _PageCalls, data: ClientAreaData) -> None:
    """The client and its network (together when the network is known), then all configs at once."""
    service = page.service
    name = service.remote_name
    asked_client = page.start(lambda panel: panel.get_client(name), "the client")
    asked_networks: dict[str, Future[Network]] = {}
    if service.network:
        asked_networks[service.network] = _start_network(page, service.network)
    answers = page.settle([asked_client, *asked_networks.values()])
    client = answers[asked_client]
    if isinstance(client, ClientPanelError):
        data.client_error = client.message
        if client.unreachable or client.timed_out:
            data.configs_error = client.message  # the panel is down or out of time: ask no more
            return
    else:
        data.client = client
    network_name = data.client.network_name if data.client else service.network
    if not network_name:
        data.configs_error = NOT_FOUND_MESSAGE
        return
    if network_name not in asked_networks:  # the client moved: ask for its actual network
        asked_networks[network_name] = _start_network(page, network_name)
        answers = page.settle([asked_networks[network_name]])
    network = answers[asked_networks[network_name]]
    if isinstance(network, ClientPanelError):
        data.configs_error = network.message
        return
    data.network = network
    if data.client is not None:  # no account on the panel: its configs cannot exist either
        _fill_configs(page, data, network)


def _start_network(page: _PageCalls, network_name: str) -> Future[Network]:
    return page.start(lambda panel: panel.network(network_name), "the network")


def _fill_configs(page: _PageCalls, data: ClientAreaData, network: Network) -> None:
    name = page.service.remote_name
    asked: list[tuple[ConfigBlock, Future[str], Future[str] | None]] = []
    for protocol, spec in PROTOCOL_FILES.items():
        if not network.protocol_enabled(protocol):
            continue
        block = ConfigBlock(spec=spec, filename=config_filename(page.service, spec))
        data.configs.append(block)
        text = page.start(partial(_config_text, protocol=protocol, name=name), spec.label)
        qr = (
            page.start(partial(_config_qr, protocol=protocol, name=name), "a QR code")
            if spec.has_qr
            else None
        )
        asked.append((block, text, qr))
    answers = page.settle([f for _, text, qr in asked for f in (text, qr) if f is not None])
    for block, text, qr in asked:
        if isinstance(answer := answers[text], ClientPanelError):
            block.error = answer.message
            continue
        block.text = answer
        if qr is None:
            continue
        if isinstance(answer := answers[qr], ClientPanelError):
            block.qr_error = answer.message
        else:
            block.qr = answer


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


class ServiceSuspended(ServiceNotProvisioned):
    """A suspended client stays on the panel, disabled; its customer gets no credentials."""

    message = (
        "This service is suspended. Its VPN configs and one-time links are available again once "
        "it is reactivated."
    )


def credentials_available(service: Service) -> bool:
    """Whether the customer may see this service's password, configs and one-time links."""
    return is_provisioned(service) and service.status == ServiceStatus.ACTIVE


def _require_credentials(service: Service) -> None:
    if not is_provisioned(service):
        raise ServiceNotProvisioned()
    if not credentials_available(service):
        raise ServiceSuspended()


def config_download(service: Service, spec: ProtocolFile) -> str:
    """The config text of one protocol for download.

    Raises ServiceNotProvisioned (ServiceSuspended while suspended) when the customer may not have
    it, ProtocolDisabled when the protocol is off on the client's network, ClientPanelError when
    the panel cannot answer.
    """
    _require_credentials(service)
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

    Raises ServiceNotProvisioned (ServiceSuspended while suspended) or ClientPanelError.
    """
    _require_credentials(service)
    panel = _panel(service, "client_otl")
    try:
        return _ask(lambda: panel.create_otl(service.remote_name), "a one-time link")
    finally:
        panel.close()


__all__ = [
    "DISABLED_PROTOCOL_MESSAGE",
    "NOT_FOUND_MESSAGE",
    "PROTOCOL_FILES",
    "SLOW_MESSAGE",
    "UNREACHABLE_MESSAGE",
    "ClientAreaData",
    "ClientPanelError",
    "ConfigBlock",
    "ProtocolDisabled",
    "ProtocolFile",
    "ServiceSuspended",
    "client_area_view",
    "config_download",
    "create_one_time_link",
    "credentials_available",
    "is_provisioned",
    "protocol_file",
]

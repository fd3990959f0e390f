"""What the client area reads from (and mints on) the panel: the VPN client card, configs,
one-time links and the traffic chart's data. No view calls the panel itself: they call these.

Every panel call here is a single attempt (someone is waiting) and goes to the module log. A
failure never reaches a view as a panel error: it becomes a :class:`PanelReadFailed` that says
why, in the block it belongs to, and the rest of the page still renders; each audience (the
customer's page, a download, the admin's tab) words it its own way. The panel's own error text is
never shown to a customer (it is untrusted and may be technical); templates escape every panel
string anyway.

The service page asks in parallel (:class:`provisioning.panel_calls.PanelCalls`) within
``CLIENT_AREA_PANEL_BUDGET_SECONDS``: blocks without an answer by then say so, and the page renders.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from django.conf import settings

from provisioning.exceptions import (
    CredentialsWithheld,
    NotOnPanel,
    PanelReadFailed,
    ProtocolDisabled,
    ReadFailure,
)
from provisioning.models import Service
from provisioning.panel_calls import PanelCalls
from provisioning.panels import panel_for
from vpnpanel import Network, PanelClient, PanelError, Protocol, TrafficDay
from vpnpanel import VpnClient as PanelVpnClient

logger = logging.getLogger(__name__)
T = TypeVar("T")


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


@dataclass
class ConfigBlock:
    """One protocol's config as shown on the page; ``error`` replaces the text when set."""

    spec: ProtocolFile
    filename: str
    text: str = ""
    qr: str = ""
    qr_error: PanelReadFailed | None = None
    error: PanelReadFailed | None = None

    @property
    def protocol(self) -> str:
        return self.spec.protocol.value

    @property
    def label(self) -> str:
        return self.spec.label


@dataclass
class ServicePageData:
    """The panel blocks of a service page; ``on_panel`` False means no panel blocks."""

    on_panel: bool
    client: PanelVpnClient | None = None
    client_error: PanelReadFailed | None = None
    network: Network | None = None
    configs: list[ConfigBlock] = field(default_factory=list)
    configs_error: PanelReadFailed | None = None

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
    try:
        return panel_for(service.server, action=action, service=service, interactive=True)
    except ValueError as exc:  # no usable address or token
        logger.warning("Cannot build a panel client for %s: %s", service.server, exc)
        raise PanelReadFailed(ReadFailure.UNREACHABLE, detail=str(exc)) from None


def _ask(call: Callable[[], T], what: str) -> T:
    """Run one panel call; every failure becomes a PanelReadFailed that says why."""
    try:
        return call()
    except PanelError as exc:
        logger.warning("Cannot read %s from the panel: %s", what, exc)
        raise PanelReadFailed.from_panel_error(exc) from None
    except Exception as exc:  # a bug, not a panel answer: keep the page up, keep the traceback
        logger.exception("Unexpected error reading %s from the panel", what)
        detail = f"Unexpected error ({type(exc).__name__}); see the portal's log."
        raise PanelReadFailed(ReadFailure.PANEL_ERROR, detail=detail) from None


def service_page_data(service: Service) -> ServicePageData:
    """Everything a service page shows from the panel, within one time budget, never raising."""
    if not service.is_on_panel:
        return ServicePageData(on_panel=False)
    data = ServicePageData(on_panel=True)
    with PanelCalls(action="client_area", service=service) as calls:
        try:
            _fill(_PageCalls(service, calls), data)
        except PanelReadFailed as exc:  # no panel client could be built: nothing was asked
            data.client_error = data.configs_error = exc
    return data


def _too_slow() -> PanelReadFailed:
    return PanelReadFailed(ReadFailure.TOO_SLOW)


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
            skipped.set_exception(_too_slow())
            return skipped
        try:
            return self.calls.submit(self.service.server, partial(_ask_panel, call, what))
        except ValueError as exc:  # no usable address or token
            logger.warning("Cannot build a panel client for %s: %s", self.service.server, exc)
            raise PanelReadFailed(ReadFailure.UNREACHABLE, detail=str(exc)) from None

    def settle(self, futures: list[Future[T]]) -> dict[Future[T], T | PanelReadFailed]:
        """Each call's answer or error; a call unanswered when the budget runs out is too slow."""
        done, late = wait(futures, timeout=max(0.0, self.deadline - time.monotonic()))
        if late:
            logger.warning(
                "Service %s: %d panel call(s) unanswered within the page's budget of %gs",
                self.service.pk,
                len(late),
                settings.CLIENT_AREA_PANEL_BUDGET_SECONDS,
            )
        answers: dict[Future[T], T | PanelReadFailed] = {f: _answer(f) for f in done}
        for future in late:
            future.cancel()
            answers[future] = _too_slow()
        return answers


def _answer(future: Future[T]) -> T | PanelReadFailed:
    try:
        return future.result()
    except PanelReadFailed as exc:
        return exc


def _ask_panel(call: Callable[[PanelClient], T], what: str, panel: PanelClient) -> T:
    return _ask(lambda: call(panel), what)


def _fill(page: _PageCalls, data: ServicePageData) -> None:
    """The client and its network (together when the network is known), then all configs at once."""
    service = page.service
    name = service.remote_name
    asked_client = page.start(lambda panel: panel.get_client(name), "the client")
    asked_networks: dict[str, Future[Network]] = {}
    if service.network:
        asked_networks[service.network] = _start_network(page, service.network)
    answers = page.settle([asked_client, *asked_networks.values()])
    client = answers[asked_client]
    if isinstance(client, PanelReadFailed):
        data.client_error = client
        if client.stops_page:
            data.configs_error = client  # the panel is down or out of time: ask no more
            return
    else:
        data.client = client
    network_name = data.client.network_name if data.client else service.network
    if not network_name:
        data.configs_error = PanelReadFailed(ReadFailure.NOT_FOUND)
        return
    if network_name not in asked_networks:  # the client moved: ask for its actual network
        asked_networks[network_name] = _start_network(page, network_name)
        answers = page.settle([asked_networks[network_name]])
    network = answers[asked_networks[network_name]]
    if isinstance(network, PanelReadFailed):
        data.configs_error = network
        return
    data.network = network
    if data.client is not None:  # no account on the panel: its configs cannot exist either
        _fill_configs(page, data, network)


def _start_network(page: _PageCalls, network_name: str) -> Future[Network]:
    return page.start(lambda panel: panel.network(network_name), "the network")


def _fill_configs(page: _PageCalls, data: ServicePageData, network: Network) -> None:
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
        if isinstance(answer := answers[text], PanelReadFailed):
            block.error = answer
            continue
        block.text = answer
        if qr is None:
            continue
        if isinstance(answer := answers[qr], PanelReadFailed):
            block.qr_error = answer
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


# Single reads and writes --------------------------------------------------------------------------


def _require_credentials(service: Service) -> None:
    if not service.is_on_panel:
        raise NotOnPanel(status=service.status)
    if service.credentials_withheld:
        raise CredentialsWithheld()


def config_download(service: Service, spec: ProtocolFile) -> str:
    """The config text of one protocol for download.

    Raises NotOnPanel (CredentialsWithheld while suspended) when the customer may not have it,
    ProtocolDisabled when the protocol is off on the client's network, PanelReadFailed when the
    panel cannot answer.
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

    Raises NotOnPanel (CredentialsWithheld while suspended) or PanelReadFailed.
    """
    _require_credentials(service)
    panel = _panel(service, "client_otl")
    try:
        return _ask(lambda: panel.create_otl(service.remote_name), "a one-time link")
    finally:
        panel.close()


def network_protocols(service: Service, *, action: str = "network_protocols") -> list[str]:
    """Labels of the protocols the service's network offers, in display order ("WireGuard", …).

    Raises NotOnPanel or PanelReadFailed.
    """
    if not service.is_on_panel:
        raise NotOnPanel(status=service.status)
    panel = _panel(service, action)
    try:
        name = (
            service.network
            or _ask(lambda: panel.get_client(service.remote_name), "the client").network_name
        )
        network = _ask(lambda: panel.network(name), "the network")
    finally:
        panel.close()
    return [
        spec.label
        for protocol, spec in PROTOCOL_FILES.items()
        if network.protocol_enabled(protocol)
    ]


def service_traffic(service: Service, year: int, month: int) -> list[TrafficDay]:
    """Per-day traffic of the service's client in one month. Raises NotOnPanel or
    PanelReadFailed."""
    if not service.is_on_panel:
        raise NotOnPanel(status=service.status)
    panel = _panel(service, "traffic")
    try:
        return _ask(lambda: panel.traffic(service.remote_name, year, month), "the traffic")
    finally:
        panel.close()

"""Typed client for PUQVPNCP panels: the only code in the project that speaks HTTP to a panel.

Import from here: ``from vpnpanel import PanelClient, PanelError``.
"""

from .client import PanelClient, build_base_url, endpoint_template
from .exceptions import (
    PanelAuthError,
    PanelBadResponse,
    PanelError,
    PanelNotFound,
    PanelRejected,
    PanelUnreachable,
)
from .policy import RetryPolicy, Timeouts
from .redaction import mask_token, redact
from .types import (
    CallRecord,
    ClientStatus,
    LicenseInfo,
    Network,
    OnlineSession,
    Protocol,
    SystemStatus,
    TrafficDay,
    VpnClient,
)

__all__ = [
    "CallRecord",
    "ClientStatus",
    "LicenseInfo",
    "Network",
    "OnlineSession",
    "PanelAuthError",
    "PanelBadResponse",
    "PanelClient",
    "PanelError",
    "PanelNotFound",
    "PanelRejected",
    "PanelUnreachable",
    "Protocol",
    "RetryPolicy",
    "SystemStatus",
    "Timeouts",
    "TrafficDay",
    "VpnClient",
    "build_base_url",
    "endpoint_template",
    "mask_token",
    "redact",
]

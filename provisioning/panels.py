"""The one place that turns a Server row into a panel client; provisioning services use it."""

from collections.abc import Callable

from provisioning.models import Server
from vpnpanel import CallRecord, PanelClient, RetryPolicy


def panel_client_for(
    server: Server,
    *,
    on_call: Callable[[CallRecord], None] | None = None,
    retry: RetryPolicy | None = None,
) -> PanelClient:
    """``retry`` overrides the settings' policy, e.g. a single attempt for an admin waiting."""
    return PanelClient.from_parts(
        hostname=server.hostname,
        ip=server.ip_address or "",
        port=server.port,
        secure=server.secure,
        token=server.api_token,
        name=server.name,
        on_call=on_call,
        retry=retry,
    )

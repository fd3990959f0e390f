"""The one place that turns a Server row into a panel client; provisioning code uses it."""

from collections.abc import Callable

from django.conf import settings

from provisioning.models import Server
from vpnpanel import CallRecord, PanelClient, RetryPolicy, Timeouts

# Someone is waiting on a page: one attempt, so an error shows at once instead of after retries.
INTERACTIVE_RETRY = RetryPolicy(attempts=1, backoff=0, max_backoff=0, jitter=0)


def interactive_timeouts() -> Timeouts:
    """Short timeouts for panel calls a page waits on, so a slow panel cannot hold it for long."""
    return Timeouts(
        connect=settings.PANEL_INTERACTIVE_CONNECT_TIMEOUT,
        read=settings.PANEL_INTERACTIVE_READ_TIMEOUT,
    )


def panel_client_for(
    server: Server,
    *,
    on_call: Callable[[CallRecord], None] | None = None,
    retry: RetryPolicy | None = None,
    interactive: bool = False,
) -> PanelClient:
    """``interactive``: a single attempt with short timeouts, for pages and admin buttons."""
    return PanelClient.from_parts(
        hostname=server.hostname,
        ip=server.ip_address or "",
        port=server.port,
        secure=server.secure,
        token=server.api_token,
        name=server.name,
        on_call=on_call,
        retry=INTERACTIVE_RETRY if interactive else retry,
        timeouts=interactive_timeouts() if interactive else None,
    )

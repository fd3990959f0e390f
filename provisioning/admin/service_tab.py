"""The service change page's VPN tab: what the panel says of the service, for staff.

The panel reads are the client area's (:mod:`provisioning.client_area.panel_reads`); staff see a
failure in their own words, with the panel's error (``for_staff`` in the admin template tags).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse

from portal.core.http import no_store
from provisioning.client_area.panel_reads import PROTOCOL_FILES, ServicePageData, service_page_data
from provisioning.client_area.presentation import service_plan
from provisioning.exceptions import NotOnPanel, PanelReadFailed
from provisioning.live import connection_payload, service_connection_status
from provisioning.models import Service
from provisioning.templatetags.provisioning_admin import staff_text
from vpnpanel import Protocol

# Always offered on the tab (greyed when off on the network); AmneziaWG only when the network
# has it.
ALWAYS_OFFERED = (Protocol.WIREGUARD, Protocol.OPENVPN, Protocol.IKEV2)


def vpn_tab_context(service: Service) -> dict[str, Any]:
    """The VPN tab's blocks; empty for a service without a client on a panel."""
    if not service.is_on_panel:
        return {}
    panel = service_page_data(service)
    return {
        "vpn": panel,
        "vpn_protocols": protocol_rows(panel),
        "vpn_plan": service_plan(service),
        "connection_url": reverse(
            "admin:provisioning_service_connection_status", args=[service.pk]
        ),
    }


def protocol_rows(panel: ServicePageData) -> list[dict[str, Any]]:
    """One row per protocol the tab offers: enabled flag, why not, and its config block."""
    if panel.network is None:
        return []
    blocks = {block.protocol: block for block in panel.configs}
    rows = []
    for protocol, spec in PROTOCOL_FILES.items():
        enabled = panel.network.protocol_enabled(protocol)
        if not enabled and protocol not in ALWAYS_OFFERED:
            continue
        rows.append(
            {
                "value": protocol.value,
                "label": spec.label,
                "enabled": enabled,
                "disabled_reason": ""
                if enabled
                else f"{spec.label} is disabled on network {panel.network.name}",
                "block": blocks.get(protocol.value),
            }
        )
    return rows


def connection_status_json(request: HttpRequest, service: Service | None) -> JsonResponse:
    """The live connection status in the customer endpoint's JSON shape; errors in staff words."""
    if service is None:
        return no_store(JsonResponse({"error": "No such service."}, status=404))
    try:
        status = service_connection_status(service)
    except NotOnPanel as exc:
        return no_store(JsonResponse({"error": exc.message}, status=409))
    except PanelReadFailed as exc:
        return no_store(JsonResponse({"error": staff_text(exc)}, status=503))
    return no_store(JsonResponse(connection_payload(status)))

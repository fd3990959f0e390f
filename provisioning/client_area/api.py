"""JSON endpoints of the client area, polled by the service page's scripts.

Every answer is JSON, errors included: the page shows ``error`` as it is, never a traceback.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal.core.http import no_store
from provisioning.client_area import panel_reads
from provisioning.client_area.presentation import parse_year_or_month, traffic_years
from provisioning.client_area.responses import NOT_FOUND, json_error, json_for_error, rate_limited
from provisioning.exceptions import NotOnPanel, PanelReadFailed
from provisioning.live import connection_payload, service_connection_status
from provisioning.models import Service
from provisioning.selectors import customer_service
from vpnpanel import TrafficDay

# A page polls every CLIENT_AREA_POLL_SECONDS (12 a minute at 5 s) plus manual refreshes; several
# open tabs of one service still fit, a script hammering the endpoint does not.
STATUS_RATE_LIMIT = 30
STATUS_RATE_WINDOW = 60
# Each Load click is one panel call; a customer flipping through months stays well under this.
TRAFFIC_RATE_LIMIT = 20
TRAFFIC_RATE_WINDOW = 60


def _own_service(
    request: HttpRequest, pk: int, *, endpoint: str, limit: int, window: int
) -> Service | JsonResponse:
    """The customer's own service, or the answer instead: 429 over the endpoint's rate limit
    (counted per user and service, before the lookup), 404 for any other service."""
    key = f"{endpoint}:{request.user.pk}:{pk}"
    if too_many := rate_limited(key, limit, window, as_json=True):
        return too_many
    service = customer_service(user=request.user, service_id=pk)
    return json_error(NOT_FOUND, status=404) if service is None else service


@require_GET
@login_required
def connection_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Online/offline and the live sessions of one of the customer's own services."""
    service = _own_service(
        request,
        pk,
        endpoint="connection_status",
        limit=STATUS_RATE_LIMIT,
        window=STATUS_RATE_WINDOW,
    )
    if isinstance(service, JsonResponse):
        return service
    try:
        status = service_connection_status(service)
    except (NotOnPanel, PanelReadFailed) as exc:
        return json_for_error(exc, place="live")
    return no_store(JsonResponse(connection_payload(status)))


@require_GET
@login_required
def traffic_json(request: HttpRequest, pk: int) -> JsonResponse:
    """Per-day download/upload bytes of one of the customer's own services for one month."""
    service = _own_service(
        request, pk, endpoint="traffic", limit=TRAFFIC_RATE_LIMIT, window=TRAFFIC_RATE_WINDOW
    )
    if isinstance(service, JsonResponse):
        return service
    today = timezone.now().date()  # UTC: the panel's months, as usage billing's
    years = traffic_years(service, today)
    year = parse_year_or_month(request.GET.get("year"))
    month = parse_year_or_month(request.GET.get("month"))
    if year is None or year not in years:
        offered = str(years[0]) if len(years) == 1 else f"between {years[-1]} and {years[0]}"
        return json_error(f"Choose a year {offered}.", status=400)
    if month is None or not 1 <= month <= 12:
        return json_error("Choose a month between 1 and 12.", status=400)
    try:
        days = month_traffic(service, year, month, today=today)
    except (NotOnPanel, PanelReadFailed) as exc:
        return json_for_error(exc, place="traffic")
    return no_store(
        JsonResponse(
            {
                "year": year,
                "month": month,
                "days": [
                    {"date": d.day.isoformat(), "download": d.download, "upload": d.upload}
                    for d in days
                ],
                "total_download": sum(d.download for d in days),
                "total_upload": sum(d.upload for d in days),
            }
        )
    )


def month_traffic(service: Service, year: int, month: int, *, today: date) -> list[TrafficDay]:
    if not service.is_on_panel:
        raise NotOnPanel(status=service.status)
    if (year, month) > (today.year, today.month):
        return []
    return panel_reads.service_traffic(service, year, month)

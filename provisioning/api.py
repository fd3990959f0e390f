"""JSON endpoints of the client area, polled by the service page's scripts.

Every answer is JSON, errors included: the page shows ``error`` as it is, never a traceback.
"""

from __future__ import annotations

import logging
import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.core import ratelimit
from provisioning.client_area import YEARS_SHOWN, parse_year_or_month
from provisioning.live import (
    LiveDataUnavailable,
    ServiceNotProvisioned,
    connection_payload,
    is_provisioned,
    service_connection_status,
)
from provisioning.models import Service
from provisioning.module_log import ModuleLogRecorder
from provisioning.panels import panel_client_for
from provisioning.selectors import customer_service
from vpnpanel import PanelError, TrafficDay

logger = logging.getLogger(__name__)

# A page polls every CLIENT_AREA_POLL_SECONDS (12 a minute at 5 s) plus manual refreshes; several
# open tabs of one service still fit, a script hammering the endpoint does not.
STATUS_RATE_LIMIT = 30
STATUS_RATE_WINDOW = 60
NOT_FOUND_MESSAGE = "No such service."
RATE_LIMITED_MESSAGE = "Too many requests. Please wait a moment and try again."


def _over_limit(key: str, limit: int, window: int) -> JsonResponse | None:
    """A 429 answer with Retry-After once ``key`` is over its limit, else None."""
    if ratelimit.hit(key, limit, window):
        return None
    response = _error(RATE_LIMITED_MESSAGE, status=429)
    response["Retry-After"] = str(ratelimit.retry_after(window))
    return response


@require_GET
@login_required
@never_cache
def connection_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Online/offline and the live sessions of one of the customer's own services."""
    key = f"connection_status:{request.user.pk}:{pk}"
    if too_many := _over_limit(key, STATUS_RATE_LIMIT, STATUS_RATE_WINDOW):
        return too_many
    service = customer_service(user=request.user, service_id=pk)
    if service is None:
        return _error(NOT_FOUND_MESSAGE, status=404)
    try:
        status = service_connection_status(service)
    except ServiceNotProvisioned as exc:
        return _error(exc.message, status=409)
    except LiveDataUnavailable as exc:
        return _error(exc.message, status=503)
    return _no_store(JsonResponse(connection_payload(status)))


def _error(message: str, *, status: int) -> JsonResponse:
    return _no_store(JsonResponse({"error": message}, status=status))


def _no_store(response: JsonResponse) -> JsonResponse:
    # never_cache adds no-store too; set explicitly so the contract does not hang on a decorator.
    response["Cache-Control"] = "no-store"
    return response


# Traffic statistics ----------------------------------------------------------------------------

# Each Load click is one panel call; a customer flipping through months stays well under this.
TRAFFIC_RATE_LIMIT = 20
TRAFFIC_RATE_WINDOW = 60
TRAFFIC_UNAVAILABLE_MESSAGE = (
    "The VPN server could not be reached just now, so your traffic statistics cannot be shown. "
    "Please try again in a minute."
)


@require_GET
@login_required
@never_cache
def traffic_json(request: HttpRequest, pk: int) -> JsonResponse:
    """Per-day download/upload bytes of one of the customer's own services for one month."""
    key = f"traffic:{request.user.pk}:{pk}"
    if too_many := _over_limit(key, TRAFFIC_RATE_LIMIT, TRAFFIC_RATE_WINDOW):
        return too_many
    service = customer_service(user=request.user, service_id=pk)
    if service is None:
        return _error(NOT_FOUND_MESSAGE, status=404)
    today = timezone.localdate()
    years = [today.year - offset for offset in range(YEARS_SHOWN)]
    year = parse_year_or_month(request.GET.get("year"))
    month = parse_year_or_month(request.GET.get("month"))
    if year is None or year not in years:
        return _error(
            f"Choose a year between {years[-1]} and {years[0]}.",
            status=400,
        )
    if month is None or not 1 <= month <= 12:
        return _error("Choose a month between 1 and 12.", status=400)
    if not is_provisioned(service):
        return _error(ServiceNotProvisioned.message, status=409)
    if (year, month) > (today.year, today.month):
        days: list[TrafficDay] = []
    else:
        try:
            days = _panel_traffic(service, year, month)
        except LiveDataUnavailable as exc:
            return _error(exc.message, status=503)
    return _no_store(
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


def _panel_traffic(service: Service, year: int, month: int) -> list[TrafficDay]:
    """One attempt at the panel, every call in the module log; LiveDataUnavailable on failure."""
    server = service.server
    recorder = ModuleLogRecorder(
        server=server, service=service, action="traffic", correlation_id=uuid.uuid4()
    )
    try:
        client = panel_client_for(server, on_call=recorder, interactive=True)
    except ValueError as exc:  # no usable address or token
        logger.warning("Cannot ask %s for traffic: %s", server, exc)
        raise LiveDataUnavailable(TRAFFIC_UNAVAILABLE_MESSAGE) from exc
    try:
        return client.traffic(service.remote_name, year, month)
    except PanelError as exc:
        logger.warning("Cannot ask %s for the traffic of %s: %s", server, service, exc)
        raise LiveDataUnavailable(TRAFFIC_UNAVAILABLE_MESSAGE) from exc
    except Exception as exc:  # a bug, not a panel answer: keep the JSON contract, keep the trace
        logger.exception("Unexpected error asking %s for the traffic of %s", server, service)
        raise LiveDataUnavailable(TRAFFIC_UNAVAILABLE_MESSAGE) from exc
    finally:
        client.close()

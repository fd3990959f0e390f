"""JSON endpoints of the client area, polled by the service page's scripts.

Every answer is JSON, errors included: the page shows ``error`` as it is, never a traceback.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.core import ratelimit
from provisioning.live import (
    LiveDataUnavailable,
    ServiceNotProvisioned,
    poll_seconds,
    service_connection_status,
)
from provisioning.selectors import customer_service

# A page polls every CLIENT_AREA_POLL_SECONDS (12 a minute at 5 s) plus manual refreshes; several
# open tabs of one service still fit, a script hammering the endpoint does not.
STATUS_RATE_LIMIT = 30
STATUS_RATE_WINDOW = 60
NOT_FOUND_MESSAGE = "No such service."
RATE_LIMITED_MESSAGE = "Too many requests. Please wait a moment and try again."


@require_GET
@login_required
@never_cache
def connection_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Online/offline and the live sessions of one of the customer's own services."""
    key = f"connection_status:{request.user.pk}:{pk}"
    if not ratelimit.hit(key, STATUS_RATE_LIMIT, STATUS_RATE_WINDOW):
        response = _error(RATE_LIMITED_MESSAGE, status=429)
        response["Retry-After"] = str(ratelimit.retry_after(STATUS_RATE_WINDOW))
        return response
    service = customer_service(user=request.user, service_id=pk)
    if service is None:
        return _error(NOT_FOUND_MESSAGE, status=404)
    try:
        status = service_connection_status(service)
    except ServiceNotProvisioned as exc:
        return _error(exc.message, status=409)
    except LiveDataUnavailable as exc:
        return _error(exc.message, status=503)
    return _no_store(
        JsonResponse(
            {
                "online": status.online,
                "checked_at": status.checked_at.isoformat(),
                "poll_seconds": poll_seconds(),
                "sessions": status.sessions,
            }
        )
    )


def _error(message: str, *, status: int) -> JsonResponse:
    return _no_store(JsonResponse({"error": message}, status=status))


def _no_store(response: JsonResponse) -> JsonResponse:
    # never_cache adds no-store too; set explicitly so the contract does not hang on a decorator.
    response["Cache-Control"] = "no-store"
    return response

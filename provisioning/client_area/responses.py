"""The client area's one mapping from an error to a response, and its rate-limit answer.

Every answer that carries something of a customer's (credentials, configs, links, live data) and
every error answer is ``no-store`` (:func:`portal.core.http.no_store`).
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse

from portal.core import ratelimit
from portal.core.http import no_store
from provisioning.client_area.messages import RATE_LIMITED, customer_message
from provisioning.exceptions import (
    NotOnPanel,
    PanelReadFailed,
    ProtocolDisabled,
    ProvisioningError,
)

NOT_FOUND = "No such service."


def error_status(error: ProvisioningError) -> int:
    """Not on a panel (yet, any more, or withheld) 409; protocol off 404; panel failure 503."""
    if isinstance(error, NotOnPanel):
        return 409
    if isinstance(error, ProtocolDisabled):
        return 404
    if isinstance(error, PanelReadFailed):
        return 503
    return 500


def json_error(message: str, *, status: int) -> JsonResponse:
    return no_store(JsonResponse({"error": message}, status=status))


def text_error(message: str, *, status: int) -> HttpResponse:
    return no_store(HttpResponse(message, status=status, content_type="text/plain; charset=utf-8"))


def json_for_error(error: ProvisioningError, *, place: str) -> JsonResponse:
    return json_error(customer_message(error, place=place), status=error_status(error))


def text_for_error(error: ProvisioningError, *, place: str) -> HttpResponse:
    return text_error(customer_message(error, place=place), status=error_status(error))


def rate_limited(key: str, limit: int, window: int, *, as_json: bool) -> HttpResponse | None:
    """A 429 with Retry-After once ``key`` is over ``limit`` hits per ``window``, else None."""
    if ratelimit.hit(key, limit, window):
        return None
    response = (json_error if as_json else text_error)(RATE_LIMITED, status=429)
    response["Retry-After"] = str(ratelimit.retry_after(window))
    return response

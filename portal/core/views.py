"""``/healthz``: ok or failing for anyone; each check for staff and for monitoring with the token.

The checks name the database vendor, the cache backend and the broker transport, which tell an
outsider what to attack, so the public answer is only ``{"status": "ok"}`` or ``"error"``.
"""

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from portal.core.health import health_report
from portal.core.http import has_bearer_token, no_store
from portal.core.models import Branding


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    if not _may_see_details(request):
        report = {"status": report["status"]}
    return no_store(JsonResponse(report, status=200 if healthy else 503))


def _may_see_details(request: HttpRequest) -> bool:
    return _has_healthz_token(request) or _is_staff(request)


def _has_healthz_token(request: HttpRequest) -> bool:
    return has_bearer_token(request, settings.HEALTHZ_TOKEN)


def _is_staff(request: HttpRequest) -> bool:
    """With the database down the session cannot be read: staff then get the public answer."""
    try:
        return request.user.is_staff
    except DatabaseError:
        return False


@require_GET
def branding_css(request: HttpRequest) -> HttpResponse:
    """The shop's colour as a stylesheet (the strict CSP allows no inline style)."""
    colour = Branding.current().primary_colour  # validated as #rrggbb when saved
    response = HttpResponse(
        f":root {{ --primary: {colour}; --primary-dark: {colour}; }}\n", content_type="text/css"
    )
    response["Cache-Control"] = "max-age=60"
    return response

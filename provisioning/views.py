"""The customer's client area: their services, one service's page, its setup status, traffic.

Every view reads services through ``customer_service(s)`` only, so another customer's service
is a 404 like a service that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.core import ratelimit
from provisioning import client_area, client_panel
from provisioning.live import ServiceNotProvisioned
from provisioning.models import Service
from provisioning.selectors import customer_service, customer_services


def _own_service(request: HttpRequest, pk: int) -> Service:
    service = customer_service(user=request.user, service_id=pk)
    if service is None:
        raise Http404("No such service.")
    return service


def _service_context(service: Service, *, section: str) -> dict[str, object]:
    return {
        "service": service,
        "section": section,
        "status_label": client_area.status_label(service.status),
        "plan": client_area.service_plan(service),
        "live": client_panel.is_provisioned(service),
    }


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("provisioning:service_list")


@require_GET
@login_required
def service_list(request: HttpRequest) -> HttpResponse:
    services = customer_services(user=request.user).order_by("-created_at", "-id")
    rows = [(service, client_area.status_label(service.status)) for service in services]
    return render(request, "provisioning/client/service_list.html", {"rows": rows})


# Config downloads call the panel: a few per minute is plenty for a person, not for a script.
CONFIG_RATE_LIMIT = 20
CONFIG_RATE_WINDOW = 60
# Each one-time link spends a token on the panel; per service, whoever asks.
OTL_RATE_LIMIT = 5
OTL_RATE_WINDOW = 600
RATE_LIMITED_MESSAGE = "Too many requests. Please wait a moment and try again."
OTL_RATE_LIMITED_MESSAGE = (
    "Too many one-time links were requested for this service. Please wait a few minutes and "
    "try again."
)
OTL_SESSION_KEY = "provisioning:otl:{pk}"


@require_GET
@never_cache  # the page carries the VPN password and configs
@login_required
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    service = _own_service(request, pk)
    context = _service_context(service, section="information")
    context.update(
        setting_up=client_area.is_setting_up(service),
        steps=client_area.setup_steps(service.status),
        connection_url=reverse("provisioning:service_connection", args=[pk]),
        # A suspended service's client is disabled on the panel: no password, configs or links.
        panel=client_panel.client_area_view(service)
        if client_panel.credentials_available(service)
        else client_panel.ClientAreaData(provisioned=False),
        # Shown once: the link was minted by the POST that redirected here.
        one_time_link=request.session.pop(OTL_SESSION_KEY.format(pk=pk), None),
    )
    return _no_store(render(request, "provisioning/client/service_detail.html", context))


@require_GET
@login_required
def service_config(request: HttpRequest, pk: int, protocol: str, ext: str) -> HttpResponse:
    """One protocol's config file of the customer's own service, as an attachment."""
    service = _own_service(request, pk)
    if too_many := _over_limit(
        f"client_config:{request.user.pk}",
        CONFIG_RATE_LIMIT,
        CONFIG_RATE_WINDOW,
        lambda: _text(RATE_LIMITED_MESSAGE, status=429),
    ):
        return too_many
    spec = client_panel.protocol_file(protocol, ext)
    if spec is None:
        raise Http404("No such config.")
    try:
        text = client_panel.config_download(service, spec)
    except ServiceNotProvisioned as exc:
        return _text(exc.message, status=409)
    except client_panel.ProtocolDisabled as exc:
        raise Http404(exc.message) from None
    except client_panel.ClientPanelError as exc:
        return _text(exc.message, status=503)
    response = HttpResponse(text, content_type=spec.content_type)
    response["Content-Disposition"] = content_disposition_header(
        True, client_panel.config_filename(service, spec)
    )
    response["X-Content-Type-Options"] = "nosniff"
    return _no_store(response)


@require_POST
@login_required
def service_otl(request: HttpRequest, pk: int) -> HttpResponse:
    """Mint a one-time link and show it once on the service page (POST, CSRF-checked)."""
    service = _own_service(request, pk)
    if too_many := _over_limit(
        f"client_otl:{service.pk}",
        OTL_RATE_LIMIT,
        OTL_RATE_WINDOW,
        lambda: _otl_result(request, service, OTL_RATE_LIMITED_MESSAGE, status=429),
    ):
        return too_many
    try:
        link = client_panel.create_one_time_link(service)
    except ServiceNotProvisioned as exc:
        return _otl_result(request, service, exc.message, status=409)
    except client_panel.ClientPanelError as exc:
        return _otl_result(request, service, exc.message, status=503)
    request.session[OTL_SESSION_KEY.format(pk=pk)] = link
    url = reverse("provisioning:service_detail", args=[pk]) + "#one-time-link"
    return redirect(url)


def _otl_result(
    request: HttpRequest, service: Service, message: str, *, status: int
) -> HttpResponse:
    context = _service_context(service, section="information")
    context["message"] = message
    response = render(request, "provisioning/client/service_otl_error.html", context, status=status)
    return _no_store(response)


def _over_limit(
    key: str, limit: int, window: int, answer: Callable[[], HttpResponse]
) -> HttpResponse | None:
    """``answer()`` (a 429) with Retry-After once ``key`` is over its limit, else None."""
    if ratelimit.hit(key, limit, window):
        return None
    response = answer()
    response["Retry-After"] = str(ratelimit.retry_after(window))
    return response


def _text(message: str, *, status: int) -> HttpResponse:
    return _no_store(HttpResponse(message, status=status, content_type="text/plain; charset=utf-8"))


def _no_store(response: HttpResponse) -> HttpResponse:
    # never_cache adds no-store too; set explicitly so the contract does not hang on a decorator.
    response["Cache-Control"] = "no-store, private"
    return response


@require_GET
@never_cache
@login_required
def service_status(request: HttpRequest, pk: int) -> JsonResponse:
    service = _own_service(request, pk)
    return JsonResponse(client_area.status_payload(service))


@require_GET
@login_required
def service_traffic(request: HttpRequest, pk: int) -> HttpResponse:
    service = _own_service(request, pk)
    context = _service_context(service, section="traffic")
    context["period"] = client_area.traffic_period(
        year=request.GET.get("year"),
        month=request.GET.get("month"),
        today=timezone.localdate(),
    )
    return render(request, "provisioning/client/service_traffic.html", context)

"""The customer's client area: their services, one service's page, its setup status, traffic.

Every view reads services through ``customer_service(s)`` only, so another customer's service
is a 404 like a service that does not exist.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from provisioning import client_area
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
        "live": client_area.shows_live_blocks(service),
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


@require_GET
@login_required
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    service = _own_service(request, pk)
    context = _service_context(service, section="information")
    context.update(
        setting_up=client_area.is_setting_up(service),
        steps=client_area.setup_steps(service.status),
        connection_url=reverse("provisioning:service_connection", args=[pk]),
    )
    return render(request, "provisioning/client/service_detail.html", context)


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

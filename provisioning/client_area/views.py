"""The customer's client area: their services, one service's page, its setup status, traffic.

Every view reads services through ``customer_service(s)`` only, so another customer's service
is a 404 like a service that does not exist. Panel reads go through :mod:`.panel_reads`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from portal.core.http import no_store
from provisioning.client_area import panel_reads, presentation
from provisioning.client_area.extensions import next_due_dates, service_cards
from provisioning.client_area.messages import customer_message
from provisioning.client_area.responses import error_status, rate_limited, text_for_error
from provisioning.exceptions import NotOnPanel, PanelReadFailed, ProtocolDisabled
from provisioning.models import Service
from provisioning.selectors import customer_service, customer_services
from provisioning.usage_alerts import MAX_THRESHOLD_GB, usage_alert_set

# Config downloads call the panel: a few per minute is plenty for a person, not for a script.
CONFIG_RATE_LIMIT = 20
CONFIG_RATE_WINDOW = 60
# Each one-time link spends a token on the panel; per service, whoever asks.
OTL_RATE_LIMIT = 5
OTL_RATE_WINDOW = 600
OTL_RATE_LIMITED_MESSAGE = (
    "Too many one-time links were requested for this service. Please wait a few minutes and "
    "try again."
)
OTL_SESSION_KEY = "client_area:otl:{pk}"


def _own_service(request: HttpRequest, pk: int) -> Service:
    service = customer_service(user=request.user, service_id=pk)
    if service is None:
        raise Http404("No such service.")
    return service


def _service_context(service: Service, *, section: str) -> dict[str, object]:
    return {
        "service": service,
        "section": section,
        "status_label": presentation.status_label(service.status),
        "plan": presentation.service_plan(service),
        "live": service.is_on_panel,
    }


@require_GET
@login_required
def service_list(request: HttpRequest) -> HttpResponse:
    services = list(customer_services(user=request.user).order_by("-created_at", "-id"))
    due = next_due_dates([service.pk for service in services])
    rows = [
        (service, presentation.status_label(service.status), due.get(service.pk))
        for service in services
    ]
    return render(request, "client_area/service_list.html", {"rows": rows})


@require_GET
@login_required
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    service = _own_service(request, pk)
    context = _service_context(service, section="information")
    context.update(
        setting_up=service.is_setting_up,
        steps=presentation.setup_steps(service.status),
        connection_url=reverse("client_area:service_connection", args=[pk]),
        # Credentials (password, configs, links) only for an active client on a panel.
        panel=panel_reads.ServicePageData(on_panel=False)
        if service.credentials_withheld
        else panel_reads.service_page_data(service),
        # Shown once: the link was minted by the POST that redirected here.
        one_time_link=request.session.pop(OTL_SESSION_KEY.format(pk=pk), None),
        cards=service_cards(request, service, "information"),
    )
    return no_store(render(request, "client_area/service_detail.html", context))


@require_GET
@login_required
def service_config(request: HttpRequest, pk: int, protocol: str, ext: str) -> HttpResponse:
    """One protocol's config file of the customer's own service, as an attachment."""
    service = _own_service(request, pk)
    key = f"client_config:{request.user.pk}"
    if too_many := rate_limited(key, CONFIG_RATE_LIMIT, CONFIG_RATE_WINDOW, as_json=False):
        return too_many
    spec = panel_reads.protocol_file(protocol, ext)
    if spec is None:
        raise Http404("No such config.")
    try:
        text = panel_reads.config_download(service, spec)
    except ProtocolDisabled as exc:
        raise Http404(exc.message) from None
    except (NotOnPanel, PanelReadFailed) as exc:
        return text_for_error(exc, place="request")
    response = HttpResponse(text, content_type=spec.content_type)
    response["Content-Disposition"] = content_disposition_header(
        True, panel_reads.config_filename(service, spec)
    )
    response["X-Content-Type-Options"] = "nosniff"
    return no_store(response)


@require_POST
@login_required
def service_otl(request: HttpRequest, pk: int) -> HttpResponse:
    """Mint a one-time link and show it once on the service page (POST, CSRF-checked)."""
    service = _own_service(request, pk)
    key = f"client_otl:{service.pk}"
    if too_many := rate_limited(key, OTL_RATE_LIMIT, OTL_RATE_WINDOW, as_json=False):
        response = _otl_failed(request, service, OTL_RATE_LIMITED_MESSAGE, status=429)
        response["Retry-After"] = too_many["Retry-After"]
        return response
    try:
        link = panel_reads.create_one_time_link(service)
    except (NotOnPanel, PanelReadFailed) as exc:
        message = customer_message(exc, place="request")
        return _otl_failed(request, service, message, status=error_status(exc))
    request.session[OTL_SESSION_KEY.format(pk=pk)] = link
    return redirect(reverse("client_area:service_detail", args=[pk]) + "#one-time-link")


def _otl_failed(request: HttpRequest, service: Service, message: str, *, status: int):
    context = _service_context(service, section="information")
    context["message"] = message
    return no_store(render(request, "client_area/service_otl_error.html", context, status=status))


@require_GET
@login_required
def service_status(request: HttpRequest, pk: int) -> JsonResponse:
    service = _own_service(request, pk)
    return no_store(JsonResponse(presentation.status_payload(service)))


@require_GET
@login_required
def service_traffic(request: HttpRequest, pk: int) -> HttpResponse:
    service = _own_service(request, pk)
    context = _service_context(service, section="traffic")
    context["period"] = presentation.traffic_period(
        service,
        year=request.GET.get("year"),
        month=request.GET.get("month"),
        today=timezone.now().date(),  # UTC: the panel's months, as usage billing's
    )
    context["cards"] = service_cards(request, service, "traffic")
    context["metered"] = service.product.typed_settings.metered
    context["usage_alert"] = getattr(service, "usage_alert", None) if context["metered"] else None
    context["max_threshold_gb"] = MAX_THRESHOLD_GB
    return render(request, "client_area/service_traffic.html", context)


@require_POST
@login_required
def service_usage_alert(request: HttpRequest, pk: int) -> HttpResponse:
    """Set or remove the service's monthly traffic alert (POST, CSRF-checked)."""
    service = _own_service(request, pk)
    traffic_page = reverse("client_area:service_traffic", args=[pk]) + "#usage-alert"
    if not service.product.typed_settings.metered:
        messages.error(request, "This plan's traffic is not counted, so it cannot alert you.")
        return redirect(traffic_page)
    if "remove" in request.POST:
        usage_alert_set(service=service, threshold_gb=None)
        messages.success(request, "The traffic alert is off.")
        return redirect(traffic_page)
    raw = request.POST.get("threshold_gb", "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_THRESHOLD_GB:
        messages.error(request, f"Enter a whole number of GB from 1 to {MAX_THRESHOLD_GB}.")
        return redirect(traffic_page)
    usage_alert_set(service=service, threshold_gb=int(raw))
    messages.success(
        request, f"We will email you once a month when this service passes {int(raw)} GB."
    )
    return redirect(traffic_page)

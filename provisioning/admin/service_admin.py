"""Services: a read-only record whose every change goes through :mod:`provisioning.services`.

The change page shows the state, the audit events and the panel calls of the service; its buttons
lead to confirmation pages (GET shows, POST acts) that request an action or retry a parked one.
Creating a service by hand calls ``service_create``. Nothing here saves a Service row itself.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from licensing.status import licence_error
from portal.accounts.models import Customer
from portal.core import ratelimit
from provisioning import services
from provisioning.admin.common import PORTAL_ADMIN_CSS, status_pill
from provisioning.client_area import service_plan
from provisioning.client_panel import (
    PROTOCOL_FILES,
    ClientAreaData,
    client_area_view,
    is_provisioned,
)
from provisioning.live import (
    LiveDataUnavailable,
    ServiceNotProvisioned,
    connection_payload,
    service_connection_status,
)
from provisioning.models import Product, Service, ServiceAction, ServiceStatus
from provisioning.panels import INTERACTIVE_RETRY
from provisioning.selectors import (
    attention_counts,
    findings_open,
    service_events,
    service_metric_statistics,
    service_module_log,
    services_needing_attention,
)
from provisioning.usage import bytes_to_gb, service_usage_refresh
from vpnpanel import PanelError, Protocol

A = ServiceAction
# "Refresh now" asks the panel; a few per minute and service is plenty for a person.
REFRESH_LIMIT = 3
REFRESH_WINDOW = 60
ACTION_CONFIRMATIONS: dict[str, str] = {
    A.CREATE: "Create the client on the panel for this service (again)?",
    A.SUSPEND: "Suspend this service? Its client is disabled on the panel, which disconnects it.",
    A.UNSUSPEND: "Unsuspend this service? Its client is enabled on the panel again.",
    A.TERMINATE: "Terminate this service? Its client is deleted on the panel. This is final.",
    A.CHANGE_PACKAGE: "Move this service to another product? The new product's bandwidth is "
    "applied on the panel.",
}
ATTENTION_LIST_LIMIT = 200


class ActionStateFilter(admin.SimpleListFilter):
    title = "action state"
    parameter_name = "action_state"

    def lookups(self, request, model_admin):
        return (
            ("queued", "Queued or running"),
            ("parked", "Parked (failed, needs retry)"),
            ("idle", "Nothing pending"),
        )

    def queryset(self, request, queryset):
        if self.value() == "queued":
            return queryset.exclude(pending_action="").filter(action_failed_at__isnull=True)
        if self.value() == "parked":
            return queryset.exclude(pending_action="").filter(action_failed_at__isnull=False)
        if self.value() == "idle":
            return queryset.filter(pending_action="")
        return queryset


class ServiceCreateForm(forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.select_related("group"))

    def __init__(self, *args: Any, admin_site: admin.AdminSite, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget = AutocompleteSelect(Service._meta.get_field("customer"), admin_site)
        self.fields = {
            "customer": forms.ModelChoiceField(
                queryset=Customer.objects.select_related("user"), widget=widget
            ),
            **self.fields,
        }


class ChangePackageForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.none(), label="New product", empty_label=None
    )

    def __init__(self, *args: Any, service: Service, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.exclude(pk=service.product_id)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "remote_name",
        "customer",
        "product",
        "server",
        "status_display",
        "pending_display",
        "needs_attention",
        "created_at",
    )
    list_display_links = ("id", "remote_name")
    list_filter = (
        "status",
        ActionStateFilter,
        "pending_action",
        "needs_attention",
        "server",
        "product",
    )
    list_select_related = ("customer__user", "product", "server")
    search_fields = ("remote_name", "customer__user__username", "customer__user__email")
    search_help_text = "Client name on the panel, customer username or email."
    date_hierarchy = "created_at"
    fieldsets = (
        (
            "Service",
            {
                "fields": (
                    "customer",
                    "product",
                    "status_display",
                    "remote_name",
                    "server",
                    "network",
                )
            },
        ),
        (
            "Pending action",
            {
                "fields": (
                    "pending_display",
                    "action_requested_at",
                    "action_started_at",
                    "action_attempts",
                    "action_failed_at",
                    "last_error",
                )
            },
        ),
        ("Needs attention", {"fields": ("needs_attention", "attention_reason")}),
        (
            "Timestamps",
            {
                "fields": (
                    "created_at",
                    "updated_at",
                    "activated_at",
                    "suspended_at",
                    "terminated_at",
                )
            },
        ),
    )
    readonly_fields = tuple(f for _, opts in fieldsets for f in opts["fields"])

    class Media:
        css = PORTAL_ADMIN_CSS

    # Only provisioning.services changes a service: the change page is a view, actions are POSTs
    # to their own URLs, and deleting is terminating.
    def has_change_permission(self, request: HttpRequest, obj: Service | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Service | None = None) -> bool:
        return False

    @staticmethod
    def may_act(request: HttpRequest) -> bool:
        return request.user.has_perm("provisioning.change_service")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("customer__user", "product", "server")

    @admin.display(description="status", ordering="status")
    def status_display(self, service: Service):
        return status_pill(service.status)

    @admin.display(description="pending action", ordering="pending_action")
    def pending_display(self, service: Service):
        if not service.pending_action:
            return "—"
        label = service.get_pending_action_display()
        if service.action_parked:
            return format_html('<span class="action-parked">{} — failed, parked</span>', label)
        return format_html('<span class="action-queued">{} — queued</span>', label)

    # URLs --------------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        urls = [
            path(
                "attention/",
                view(self.attention_view),
                name="provisioning_service_attention",
            ),
            path(
                "<path:object_id>/action/<slug:action>/",
                view(self.action_view),
                name="provisioning_service_action",
            ),
            path(
                "<path:object_id>/retry/",
                view(self.retry_view),
                name="provisioning_service_retry",
            ),
            path(
                "<path:object_id>/refresh-usage/",
                view(self.refresh_usage_view),
                name="provisioning_service_refresh_usage",
            ),
            path(
                "<path:object_id>/connection-status/",
                view(self.connection_status_view),
                name="provisioning_service_connection_status",
            ),
            path(
                "<path:object_id>/clear-attention/",
                view(self.clear_attention_view),
                name="provisioning_service_clear_attention",
            ),
        ]
        return urls + super().get_urls()

    # Change page -------------------------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(
                {
                    "events": service_events(obj),
                    "log_entries": service_module_log(obj),
                    "available_actions": available_actions(obj) if self.may_act(request) else [],
                    "can_retry": can_retry(obj) and self.may_act(request),
                    "may_act": self.may_act(request),
                    "metrics": service_metric_statistics(obj),
                    "licence_error": licence_error(obj.product),
                }
            )
            if is_provisioned(obj):
                panel = client_area_view(obj)
                context.update(
                    {
                        "vpn": panel,
                        "vpn_protocols": protocol_rows(panel),
                        "vpn_plan": service_plan(obj),
                        "connection_url": reverse(
                            "admin:provisioning_service_connection_status", args=[obj.pk]
                        ),
                    }
                )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def connection_status_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the live connection status, the customer endpoint's JSON shape (staff only)."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        service = self.get_object(request, unquote(object_id))
        if service is None:
            return _no_store({"error": "No such service."}, status=404)
        try:
            status = service_connection_status(service)
        except ServiceNotProvisioned as exc:
            return _no_store({"error": exc.message}, status=409)
        except LiveDataUnavailable as exc:
            return _no_store({"error": exc.message}, status=503)
        return _no_store(connection_payload(status))

    # Create by hand ----------------------------------------------------------------------------

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        data = request.POST if request.method == "POST" else None
        form = ServiceCreateForm(data, admin_site=self.admin_site)
        if form.is_valid():
            service = services.service_create(
                customer=form.cleaned_data["customer"],
                product=form.cleaned_data["product"],
                actor=request.user,
            )
            self.log_addition(request, service, [{"added": {}}])
            self.message_user(
                request, f"Service {service} created and queued for provisioning.", messages.SUCCESS
            )
            return redirect(self._change_url(service))
        fieldsets = [(None, {"fields": ["customer", "product"]})]
        adminform = helpers.AdminForm(form, fieldsets, {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": "Create a service by hand",
            "subtitle": None,
            "adminform": adminform,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + adminform.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
            "service_create_help": True,
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)

    # Actions -----------------------------------------------------------------------------------

    def _service_or_404(self, request: HttpRequest, object_id: str) -> Service:
        service = self.get_object(request, unquote(object_id))
        if service is None:
            raise Http404("No such service.")
        if not self.may_act(request):
            raise PermissionDenied
        return service

    def _change_url(self, service: Service) -> str:
        return reverse("admin:provisioning_service_change", args=[service.pk])

    def action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """GET: the confirmation page; POST: queue ``action`` through the service layer."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        if action not in A.values:
            raise Http404("No such action.")
        service = self._service_or_404(request, object_id)
        label = A(action).label
        form = None
        if action == A.CHANGE_PACKAGE:
            data = request.POST if request.method == "POST" else None
            form = ChangePackageForm(data, service=service)
        if request.method == "POST" and (form is None or form.is_valid()):
            product = form.cleaned_data["product"] if form is not None else None
            try:
                services.service_request_action(
                    service_id=service.pk, action=action, actor=request.user, product=product
                )
            except services.ProvisioningError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.log_change(request, service, f"Requested: {label}.")
                self.message_user(
                    request, f"{label} queued for service {service}.", messages.SUCCESS
                )
            return redirect(self._change_url(service))
        return self._confirmation(
            request,
            service,
            title=f"{label}: {service}",
            question=ACTION_CONFIRMATIONS[action],
            submit=f"Yes, {label.lower()}",
            form=form,
        )

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the confirmation page; POST: re-queue the parked action."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        service = self._service_or_404(request, object_id)
        if request.method == "POST":
            try:
                services.service_retry(service_id=service.pk, actor=request.user)
            except services.ProvisioningError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.log_change(request, service, "Retried the failed action.")
                self.message_user(request, f"Retry queued for service {service}.", messages.SUCCESS)
            return redirect(self._change_url(service))
        action = service.get_pending_action_display() or "Create"
        return self._confirmation(
            request,
            service,
            title=f"Retry: {service}",
            question=f"Retry “{action}” on this service? It is queued again for the worker.",
            submit="Yes, retry",
            details=[f"Last error: {service.last_error}"] if service.last_error else [],
        )

    def refresh_usage_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST only: pull this month's traffic of the service from its panel now, in one try."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        service = self._service_or_404(request, object_id)
        if not ratelimit.hit(f"admin_usage_refresh:{service.pk}", REFRESH_LIMIT, REFRESH_WINDOW):
            self.message_user(
                request,
                "Usage was refreshed a moment ago; wait a minute before asking the panel again.",
                messages.WARNING,
            )
            return redirect(f"{self._change_url(service)}#service-metrics")
        try:
            snapshot = service_usage_refresh(service_id=service.pk, retry=INTERACTIVE_RETRY)
        except (services.ProvisioningError, PanelError) as exc:
            self.message_user(request, f"Usage could not be refreshed: {exc}", messages.ERROR)
        else:
            self.message_user(
                request,
                f"Usage refreshed: {bytes_to_gb(snapshot.download_bytes)} GB down, "
                f"{bytes_to_gb(snapshot.upload_bytes)} GB up this month.",
                messages.SUCCESS,
            )
        return redirect(f"{self._change_url(service)}#service-metrics")

    def clear_attention_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the confirmation page; POST: clear the needs-attention flag."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        service = self._service_or_404(request, object_id)
        if request.method == "POST":
            try:
                services.service_clear_attention(service_id=service.pk, actor=request.user)
            except services.ProvisioningError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.log_change(request, service, "Cleared the needs-attention flag.")
                self.message_user(
                    request, f"Service {service} is no longer flagged.", messages.SUCCESS
                )
            return redirect(self._change_url(service))
        return self._confirmation(
            request,
            service,
            title=f"Clear the flag: {service}",
            question="Have you dealt with this (for example deleted the orphan client on the "
            "panel)? The flag is cleared; the audit trail keeps the reason.",
            submit="Yes, clear the flag",
            details=[service.attention_reason] if service.attention_reason else [],
        )

    def _confirmation(
        self,
        request: HttpRequest,
        service: Service,
        *,
        title: str,
        question: str,
        submit: str,
        form: forms.Form | None = None,
        details: list[str] | None = None,
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "object": service,
            "question": question,
            "details": details or [],
            "form": form,
            "submit_label": submit,
            "cancel_url": self._change_url(service),
            "media": self.media + (form.media if form else forms.Media()),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/provisioning/confirm_action.html", context)

    # Needs attention ---------------------------------------------------------------------------

    def attention_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        counts = attention_counts()
        context = {
            **self.admin_site.each_context(request),
            "title": "Needs attention",
            "opts": self.opts,
            "counts": counts,
            "services": services_needing_attention()[:ATTENTION_LIST_LIMIT],
            "findings": findings_open()[:ATTENTION_LIST_LIMIT],
            "limit": ATTENTION_LIST_LIMIT,
            "may_act": self.may_act(request),
            "may_fix_findings": request.user.has_perm("provisioning.change_reconciliationfinding"),
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/provisioning/attention.html", context)


def available_actions(service: Service) -> list[tuple[str, str]]:
    """(action, label) pairs the service's state allows now; the service layer re-checks."""
    if service.pending_action and not service.action_parked:
        return []
    return [
        (action, A(action).label)
        for action in (A.CREATE, A.SUSPEND, A.UNSUSPEND, A.CHANGE_PACKAGE, A.TERMINATE)
        if service.status in services.REQUIRED_STATUS[action]
    ]


def can_retry(service: Service) -> bool:
    return service.action_parked or (
        service.status == ServiceStatus.FAILED and not service.pending_action
    )


# Service tab: VPN client blocks ----------------------------------------------------------------

# Always offered on the tab (greyed when off on the network); AmneziaWG only when the network
# has it.
ALWAYS_OFFERED = (Protocol.WIREGUARD, Protocol.OPENVPN, Protocol.IKEV2)


def protocol_rows(panel: ClientAreaData) -> list[dict[str, Any]]:
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


def _no_store(data: dict[str, Any], *, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"
    return response

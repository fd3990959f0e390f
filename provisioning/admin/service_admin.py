"""Services: a read-only record whose every change goes through :mod:`provisioning.services`.

The change page shows the state, the audit events and the panel calls of the service; its buttons
lead to confirmation pages (GET shows, POST acts) that request an action or retry a parked one.
Creating a service by hand calls ``service_create``. Nothing here saves a Service row itself.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.html import format_html

from portal.accounts.models import Customer
from portal.core.http import no_store
from provisioning import services
from provisioning.admin.common import PORTAL_ADMIN_CSS, status_pill
from provisioning.admin.service_actions import ServiceActionViews, available_actions
from provisioning.admin.service_tab import connection_status_json, vpn_tab_context
from provisioning.exceptions import ActionRefused
from provisioning.licences import product_licence_error, product_licence_refusal
from provisioning.models import Product, Service
from provisioning.selectors import service_events, service_metric_statistics, service_module_log


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
    """Create a service by hand; ``request_key`` makes a double submit create one service."""

    product = forms.ModelChoiceField(queryset=Product.objects.select_related("group"))
    request_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, admin_site: admin.AdminSite, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"request_key": uuid.uuid4()})
        super().__init__(*args, **kwargs)
        widget = AutocompleteSelect(Service._meta.get_field("customer"), admin_site)
        self.fields = {
            "customer": forms.ModelChoiceField(
                queryset=Customer.objects.select_related("user"), widget=widget
            ),
            **self.fields,
        }

    def clean_product(self) -> Product:
        product = self.cleaned_data["product"]
        if refusal := product_licence_refusal(product):
            raise forms.ValidationError(
                "New services of %(product)s are refused: its licence check failed: %(refusal)s",
                params={"product": product, "refusal": refusal},
            )
        return product


@admin.register(Service)
class ServiceAdmin(ServiceActionViews, admin.ModelAdmin):
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
        state, text = pending_state(service)
        if not state:
            return "—"
        return format_html('<span class="action-{}">{}</span>', state, text)

    # URLs --------------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        urls = [
            path(
                "<path:object_id>/status.json",
                view(self.status_view),
                name="provisioning_service_status",
            ),
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
            may_act = self.may_act(request)
            context.update(
                {
                    "events": service_events(obj),
                    "log_entries": service_module_log(obj),
                    "available_actions": available_actions(obj) if may_act else [],
                    "can_retry": obj.can_retry and may_act,
                    "may_act": may_act,
                    "metrics": service_metric_statistics(obj),
                    "licence_error": product_licence_error(obj.product),
                    **vpn_tab_context(obj),
                }
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def connection_status_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the live connection status, the customer endpoint's JSON shape (staff only)."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        return connection_status_json(request, self.get_object(request, unquote(object_id)))

    def status_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the status and pending action, for the change page to update in place."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        service = self.get_object(request, unquote(object_id))
        if service is None:
            return no_store(JsonResponse({"error": "No such service."}, status=404))
        state, text = pending_state(service)
        payload = {
            "status": service.status,
            "status_label": service.get_status_display(),
            "pending": text,
            "pending_state": state,
            "in_flight": service.action_in_flight,
        }
        return no_store(JsonResponse(payload))

    # Create by hand ----------------------------------------------------------------------------

    def _create(self, request: HttpRequest, form: ServiceCreateForm) -> Service | None:
        """The service of this form; None (the error on the form) when the form, sent again
        with other choices, already made another one."""
        try:
            service = services.service_create(
                customer=form.cleaned_data["customer"],
                product=form.cleaned_data["product"],
                actor=request.user,
                reason="created by hand in the admin",
                idempotency_key=f"admin:{form.cleaned_data['request_key']}",
            )
        except ActionRefused:
            form.add_error(
                None,
                "This form was already used to create a service. Open Services → Add again to "
                "create another one.",
            )
            return None
        self.log_addition(request, service, [{"added": {}}])
        self.message_user(
            request, f"Service {service} created and queued for provisioning.", messages.SUCCESS
        )
        return service

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        data = request.POST if request.method == "POST" else None
        form = ServiceCreateForm(data, admin_site=self.admin_site)
        if form.is_valid() and (service := self._create(request, form)) is not None:
            return redirect(self._change_url(service))
        fieldsets = [(None, {"fields": ["customer", "product", "request_key"]})]
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


def pending_state(service: Service) -> tuple[str, str]:
    """("queued" or "parked", what is pending), or ("", "") when nothing is."""
    if not service.pending_action:
        return "", ""
    label = service.get_pending_action_display()
    if service.action_parked:
        return "parked", f"{label} — failed, parked"
    return "queued", f"{label} — queued"

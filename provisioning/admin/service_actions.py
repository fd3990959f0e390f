"""The service page's buttons: each a confirmation page (GET shows, POST acts) that calls the
lifecycle API; plus "Refresh now" of the usage and the Needs attention page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from portal.core import ratelimit
from provisioning import services
from provisioning.exceptions import ActionRefused, ProvisioningError
from provisioning.models import Product, Service, ServiceAction
from provisioning.panels import INTERACTIVE_RETRY
from provisioning.selectors import (
    attention_counts,
    findings_open,
    servers_incompletely_reconciled,
    services_needing_attention,
)
from provisioning.usage import bytes_to_gb, service_usage_refresh
from vpnpanel import PanelError

A = ServiceAction
ADMIN_REASON = "requested in the admin"
NOTHING_TO_RETRY = "There is no failed action to retry on this service."
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


class ChangePackageForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.none(), label="New product", empty_label=None
    )

    def __init__(self, *args: Any, service: Service, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.exclude(pk=service.product_id)


class ServiceActionViews:
    """Mixed into ServiceAdmin: the views behind the service page's buttons."""

    admin_site: admin.AdminSite
    opts: Any
    media: forms.Media

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
                    service=service,
                    action=action,
                    actor=request.user,
                    reason=ADMIN_REASON,
                    product=product,
                )
            except ActionRefused as exc:
                self.message_user(request, exc.message, messages.ERROR)
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
            if service.can_retry:
                services.service_retry(service=service, actor=request.user, reason=ADMIN_REASON)
                self.log_change(request, service, "Retried the failed action.")
                self.message_user(request, f"Retry queued for service {service}.", messages.SUCCESS)
            else:
                self.message_user(request, NOTHING_TO_RETRY, messages.ERROR)
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
        except (ProvisioningError, PanelError) as exc:
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
            if not service.needs_attention:
                self.message_user(request, "This service is not flagged.", messages.ERROR)
            else:
                services.service_clear_attention(service=service, actor=request.user)
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
            "servers": servers_incompletely_reconciled(),
            "limit": ATTENTION_LIST_LIMIT,
            "may_act": self.may_act(request),
            "may_fix_findings": request.user.has_perm("provisioning.change_reconciliationfinding"),
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/provisioning/attention.html", context)


def available_actions(service: Service) -> list[tuple[str, str]]:
    """(action, label) pairs the service's state allows now; the lifecycle API re-checks."""
    return [(action, A(action).label) for action in service.allowed_actions()]

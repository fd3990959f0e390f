"""Reconciliation findings: read-only, plus the confirmed deletion of an orphan client."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from provisioning.admin.common import PORTAL_ADMIN_CSS
from provisioning.exceptions import ProvisioningError
from provisioning.models import FindingKind, ReconciliationFinding
from provisioning.reconciliation import finding_delete_orphan
from vpnpanel import PanelError


class FindingStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("open", "Open"), ("resolved", "Resolved"))

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(ReconciliationFinding)
class ReconciliationFindingAdmin(admin.ModelAdmin):
    list_display = (
        "kind",
        "remote_name",
        "server",
        "service",
        "detail",
        "fix_applied",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
    )
    list_filter = (FindingStateFilter, "kind", "server")
    list_select_related = ("server", "service")
    search_fields = ("remote_name", "detail")
    date_hierarchy = "last_seen_at"
    fields = list_display
    readonly_fields = fields

    class Media:
        css = PORTAL_ADMIN_CSS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @staticmethod
    def may_fix(request: HttpRequest) -> bool:
        return request.user.has_perm("provisioning.change_reconciliationfinding")

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/delete-orphan/",
                self.admin_site.admin_view(self.delete_orphan_view),
                name="provisioning_reconciliationfinding_delete_orphan",
            )
        ]
        return urls + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_delete_orphan"] = (
            obj is not None and is_open_orphan(obj) and self.may_fix(request)
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def delete_orphan_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the confirmation page; POST: delete the orphan client on its panel."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        finding = self.get_object(request, unquote(object_id))
        if finding is None:
            raise Http404("No such finding.")
        if not self.may_fix(request):
            raise PermissionDenied
        change_url = reverse("admin:provisioning_reconciliationfinding_change", args=[finding.pk])
        if request.method == "POST":
            self._delete_orphan(request, finding)
            return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Delete the orphan client {finding.remote_name}",
            "opts": self.opts,
            "object": finding,
            "question": (
                f"Delete the client “{finding.remote_name}” on {finding.server}? It has no live "
                "service here. The client and its configuration are gone for good."
            ),
            "details": [finding.detail] if finding.detail else [],
            "form": None,
            "submit_label": "Yes, delete it on the panel",
            "cancel_url": change_url,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/provisioning/confirm_action.html", context)

    def _delete_orphan(self, request: HttpRequest, finding: ReconciliationFinding) -> None:
        try:
            finding_delete_orphan(finding_id=finding.pk, actor=request.user)
        except (ProvisioningError, PanelError) as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.log_change(request, finding, f"Deleted the orphan client {finding.remote_name}.")
        self.message_user(
            request,
            f"The orphan client {finding.remote_name} was deleted on {finding.server}.",
            messages.SUCCESS,
        )


def is_open_orphan(finding: ReconciliationFinding) -> bool:
    return finding.kind == FindingKind.ORPHAN and finding.resolved_at is None

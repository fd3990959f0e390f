"""The module log: every panel call, redacted, read-only."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from provisioning.admin.common import PORTAL_ADMIN_CSS
from provisioning.models import ModuleLogEntry, Service


def pretty_json(value: Any):
    """Panel data as indented JSON in a <pre>, escaped: panel strings are untrusted."""
    if value is None:
        return "—"
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    return format_html('<pre class="module-log-json">{}</pre>', text)


class ServiceFilter(admin.SimpleListFilter):
    """By service, without a list of every service: a number box, and the chosen one shown.

    The service page links here with ``?service__id__exact=<pk>``; the only query this filter
    adds is the chosen service's name, and only when one is chosen.
    """

    title = "service"
    parameter_name = "service__id__exact"
    template = "admin/provisioning/modulelogentry/service_filter.html"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        value = self.value()
        if value is None:
            return []
        service_id = self.service_id()
        if service_id is None:
            return [(value, "not a service number")]
        service = Service.objects.filter(pk=service_id).only("pk", "remote_name").first()
        if service is None:
            return [(value, f"#{service_id}: no such service")]
        return [(value, f"#{service_id} {service.remote_name}".rstrip())]

    def has_output(self) -> bool:
        return True  # the number box shows even when no service is chosen

    def service_id(self) -> int | None:
        value = self.value()
        return int(value) if value and value.isascii() and value.isdigit() else None

    def queryset(self, request: HttpRequest, queryset):
        if self.value() is None:
            return queryset
        service_id = self.service_id()
        return queryset.filter(service_id=service_id) if service_id else queryset.none()

    def choices(self, changelist):
        # The box submits a GET form: every other active parameter rides along as hidden inputs.
        self.hidden_params = [
            (name, value)
            for name, values in changelist.filter_params.items()
            if name != self.parameter_name
            for value in values
        ]
        yield from super().choices(changelist)


@admin.register(ModuleLogEntry)
class ModuleLogEntryAdmin(admin.ModelAdmin):
    # Cells for a narrow table (styles: .model-modulelogentry in provisioning_admin.css): a
    # compact time, the path breakable at each "/" and cut short, the error under the outcome;
    # full texts in a title and on the row's page.
    list_display = (
        "created",
        "server",
        "service_link",
        "action",
        "method",
        "call_path",
        "http_status",
        "result",
        "duration",
        "attempt",
    )
    list_filter = (
        "outcome",
        "action",
        "server",
        ServiceFilter,
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("server", "service")
    search_fields = ("path", "error", "service__remote_name")
    search_help_text = "Path, error text or the service's client name on the panel."
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "server",
        "service",
        "action",
        "correlation_id",
        "attempt",
        "method",
        "path",
        "http_status",
        "outcome",
        "duration",
        "error",
        "request_json",
        "response_json",
    )
    readonly_fields = fields

    class Media:
        css = PORTAL_ADMIN_CSS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ModuleLogEntry | None = None):
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ModuleLogEntry | None = None):
        return False  # retention (module_log_cleanup) deletes; nobody edits history by hand

    @admin.display(description="created at", ordering="created_at")
    def created(self, entry: ModuleLogEntry):
        when = timezone.localtime(entry.created_at)
        return format_html(
            '<time class="log-when" datetime="{}"><span>{}</span> <span>{}</span></time>',
            when.isoformat(),
            when.strftime("%Y-%m-%d"),
            when.strftime("%H:%M:%S"),
        )

    @admin.display(description="path", ordering="path")
    def call_path(self, entry: ModuleLogEntry):
        *parents, last = entry.path.split("/")
        return format_html(
            '<span class="log-path" title="{}">{}{}</span>',
            entry.path,
            format_html_join("", "{}/<wbr>", ((part,) for part in parents)),
            last,
        )

    @admin.display(description="outcome", ordering="outcome")
    def result(self, entry: ModuleLogEntry):
        label = format_html(
            '<span class="log-outcome log-outcome--{}">{}</span>',
            entry.outcome,
            entry.get_outcome_display(),
        )
        if not entry.error:
            return label
        return format_html(
            '{}<span class="log-error call-error" title="{}">{}</span>',
            label,
            entry.error,
            entry.error,
        )

    @admin.display(description="service", ordering="service__remote_name")
    def service_link(self, entry: ModuleLogEntry) -> str:
        if entry.service is None:
            return "—"
        return entry.service.remote_name or f"#{entry.service_id}"

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, entry: ModuleLogEntry) -> str:
        return f"{entry.duration_ms:.0f} ms"

    @admin.display(description="request")
    def request_json(self, entry: ModuleLogEntry):
        return pretty_json(entry.request)

    @admin.display(description="response")
    def response_json(self, entry: ModuleLogEntry):
        return pretty_json(entry.response)

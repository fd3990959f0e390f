"""The module log: every panel call, redacted, read-only."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from provisioning.admin.common import PORTAL_ADMIN_CSS
from provisioning.models import ModuleLogEntry


def pretty_json(value: Any):
    """Panel data as indented JSON in a <pre>, escaped: panel strings are untrusted."""
    if value is None:
        return "—"
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    return format_html('<pre class="module-log-json">{}</pre>', text)


@admin.register(ModuleLogEntry)
class ModuleLogEntryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "server",
        "service_link",
        "action",
        "method",
        "path",
        "http_status",
        "outcome",
        "duration",
        "attempt",
    )
    list_filter = ("outcome", "action", "server", ("created_at", admin.DateFieldListFilter))
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

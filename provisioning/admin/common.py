"""Pieces shared by the provisioning admin pages."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

from provisioning.models import ServiceStatus

PORTAL_ADMIN_CSS = {"all": ("portal/provisioning_admin.css",)}


def status_pill(status: str) -> SafeString:
    try:
        label = ServiceStatus(status).label
    except ValueError:
        label = status
    return format_html('<span class="status-pill status-{}">{}</span>', status, label)

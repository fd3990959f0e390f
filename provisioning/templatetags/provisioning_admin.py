"""Template tags of the provisioning admin pages."""

from __future__ import annotations

import json
from typing import Any

from django import template

from provisioning.exceptions import PanelReadFailed, ReadFailure

register = template.Library()


@register.filter
def as_json(value: Any) -> str:
    """Indented JSON text; the template escapes it (panel strings are untrusted)."""
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


STAFF_READ_FAILURES: dict[ReadFailure, str] = {
    ReadFailure.UNREACHABLE: "Panel unreachable",
    ReadFailure.PANEL_ERROR: "Panel error",
    ReadFailure.NOT_FOUND: "Not on the panel",
    ReadFailure.TOO_SLOW: "No answer within the page's budget (CLIENT_AREA_PANEL_BUDGET_SECONDS)",
}


def staff_text(error: PanelReadFailed) -> str:
    """A failed panel read in staff words: what kind of failure, and the panel error itself."""
    kind = STAFF_READ_FAILURES[error.failure]
    return f"{kind}: {error.detail}" if error.detail else f"{kind}."


@register.filter
def for_staff(error: PanelReadFailed | None) -> str:
    return staff_text(error) if error else ""

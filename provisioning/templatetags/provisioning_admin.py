"""Template tags of the provisioning admin pages."""

from __future__ import annotations

import json
from typing import Any

from django import template

from provisioning.selectors import AttentionCounts, attention_counts

register = template.Library()


@register.simple_tag(takes_context=True)
def provisioning_attention(context) -> AttentionCounts | None:
    """What needs an admin, for the admin index; None for users who may not see services."""
    request = context.get("request")
    if request is None or not request.user.has_perm("provisioning.view_service"):
        return None
    return attention_counts()


@register.filter
def as_json(value: Any) -> str:
    """Indented JSON text; the template escapes it (panel strings are untrusted)."""
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)

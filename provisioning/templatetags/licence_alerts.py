"""The admin's licence banner: shown on every admin page while a product's licence check fails."""

from __future__ import annotations

from typing import Any

from django import template

from provisioning.licences import failing_licences

register = template.Library()


@register.inclusion_tag("admin/licensing/licence_alert.html", takes_context=True)
def licence_alert(context: template.Context) -> dict[str, Any]:
    """The failing products, for staff only (the sign-in page shares the admin's base)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff):
        return {"failing": []}
    return {"failing": failing_licences()}

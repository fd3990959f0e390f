"""The admin index's dashboard tag."""

from __future__ import annotations

from django import template

from portal.dashboard.blocks import Dashboard, dashboard_for

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_dashboard(context) -> Dashboard | None:
    """The blocks the signed-in staff user may see; None outside a request."""
    request = context.get("request")
    if request is None or not request.user.is_active or not request.user.is_staff:
        return None
    return dashboard_for(request.user)

from django import template

from provisioning.client_area.messages import read_failed
from provisioning.exceptions import PanelReadFailed

register = template.Library()


@register.filter
def on_page(error: PanelReadFailed | None) -> str:
    """A failed panel read of a service page block, in the customer's words."""
    return read_failed(error, place="page") if error else ""

from django.http import HttpRequest

from portal.core.models import Branding


def branding(request: HttpRequest) -> dict[str, Branding]:
    """``branding`` in every template: the shop's name, colour, logo, links."""
    return {"branding": Branding.current()}

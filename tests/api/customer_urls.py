"""Every customer URL of ``portal.api_urls`` (not the staff ones), walked from the URL patterns
so a new endpoint is covered without being listed here."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver

from portal import api_urls

PREFIX = "/api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")

# Valid input besides the URL, by the route's last segment: an ownership check is then the only
# reason left to refuse the request.
QUERIES = {"traffic/": {"year": 2026, "month": 1}}
BODIES = {"usage-alert/": {"threshold_gb": 50}}
FIXED_ARGUMENTS = {"protocol": "wireguard"}


def customer_routes() -> list[tuple[str, str]]:
    """(method, route) of every customer endpoint, e.g. ``("put",
    "services/<int:pk>/usage-alert/")``; the staff include and the catch-all 404 left out."""
    routes = []
    for pattern in api_urls.v1:
        route = str(pattern.pattern)
        if isinstance(pattern, URLResolver) or route.startswith("^"):
            continue
        assert isinstance(pattern, URLPattern)
        view = pattern.callback.view_class
        routes += [(method, route) for method in METHODS if hasattr(view, method)]
    return routes


def takes_an_object(route: str) -> bool:
    return "pk" in ARGUMENT.findall(route)


def fill(route: str, objects: dict[str, int]) -> str:
    """The URL of ``route`` naming the object of its resource (``objects``, by the route's first
    segment: ``services``, ``invoices``...); other arguments from ``FIXED_ARGUMENTS``."""
    resource = route.split("/", 1)[0]

    def argument(match: re.Match) -> str:
        name = match.group(1)
        if name == "pk":
            if resource not in objects:
                raise LookupError(
                    f"{route!r} takes the id of a {resource!r} object: add the owner's object of "
                    f"that resource to owners_objects in tests/api/test_customer_ownership.py."
                )
            return str(objects[resource])
        if name not in FIXED_ARGUMENTS:
            raise LookupError(
                f"{route!r} takes the argument {name!r}: add a value for it to FIXED_ARGUMENTS "
                f"in tests/api/customer_urls.py."
            )
        return str(FIXED_ARGUMENTS[name])

    return PREFIX + ARGUMENT.sub(argument, route)


def request_data(method: str, route: str) -> dict:
    """The query (GET) or the JSON body the route takes when its input is valid."""
    last = route.rstrip("/").rsplit("/", 1)[-1] + "/"
    return (QUERIES if method == "get" else BODIES).get(last, {})

"""Small HTTP helpers shared by every app's views."""

from __future__ import annotations

import ipaddress
from typing import TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.crypto import constant_time_compare

from portal.core import ratelimit

R = TypeVar("R", bound=HttpResponse)


def no_store(response: R) -> R:
    """Mark a response as never to be stored by a browser or proxy (it carries credentials,
    configs, links or live data): ``Cache-Control: max-age=0, no-cache, no-store,
    must-revalidate, private`` and an ``Expires`` in the past."""
    add_never_cache_headers(response)
    return response


def too_many_requests(response: R, *, window: int) -> R:
    """``response`` (the page with the reason on it) as a 429 whose ``Retry-After`` is the end
    of the rate limit's current ``window`` (seconds); never stored."""
    response.status_code = 429
    response["Retry-After"] = str(ratelimit.retry_after(window))
    return no_store(response)


def client_ip(
    request: HttpRequest, *, strict: bool = False
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The client's address, or None when it cannot be read.

    ``X-Forwarded-For`` is read only behind ``PORTAL_TRUSTED_PROXY_COUNT`` proxies, taking the
    entry the outermost of them appended; anything left of it is the client's to forge. An
    IPv4-mapped IPv6 address is given as the IPv4 one.

    With fewer entries than trusted proxies (a request that skipped the outer ones) the address
    is the connecting proxy's, good enough to throttle by; ``strict`` (an allow-list deciding
    access) makes it None instead, since the proxy's own address may well be an allowed one.
    """
    candidate = request.META.get("REMOTE_ADDR", "")
    hops = settings.PORTAL_TRUSTED_PROXY_COUNT
    if hops:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        entries = [entry.strip() for entry in forwarded if entry.strip()]
        if len(entries) >= hops:
            candidate = entries[-hops]
        elif strict:
            return None
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def has_bearer_token(request: HttpRequest, token: str) -> bool:
    """Whether the request sends ``token`` as ``Authorization: Bearer …`` (compared in constant
    time); an empty ``token`` is never matched."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and constant_time_compare(credentials, token)

"""Small HTTP helpers shared by every app's views."""

from __future__ import annotations

from typing import TypeVar

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers

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

"""Request rates per signed-in user, read from settings at each request (docs/api.md).

DRF reads ``DEFAULT_THROTTLE_RATES`` once, when its classes are defined; reading
``API_THROTTLE_RATES`` per request lets an operator's setting (and a test's) apply as it is.
A request over the rate is answered 429 with ``Retry-After`` (``portal.core.api.errors``).

DRF throttles after authentication, so a request whose token is refused never reaches
:class:`ApiAnonThrottle`: the bearer authentication counts those failures per client address
itself (:func:`check_auth_failures`, :func:`count_auth_failure`) at the same ``anon`` rate, so
tokens cannot be guessed at the speed of the network.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from rest_framework.exceptions import Throttled
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from portal.core import ratelimit
from portal.core.http import client_ip

AUTH_FAILURES_THROTTLED = (
    "Too many requests with a token that is not valid came from this address. "
    "Please try again later."
)


class _SettingsRate:
    scope: str

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]


class ApiUserThrottle(_SettingsRate, UserRateThrottle):
    """Every request of one user, whichever of their tokens it carries."""

    scope = "user"


class ApiAnonThrottle(_SettingsRate, AnonRateThrottle):
    """Requests without a (valid) token, per client address."""

    scope = "anon"


def rate_limit(key: str, limit: int, window: int, *, message: str = "") -> None:
    """Count one request against ``key`` (``portal.core.ratelimit``, the web pages' counters, so
    a page and the API share one budget); over ``limit`` per ``window`` seconds, a 429."""
    if not ratelimit.hit(key, limit, window):
        raise Throttled(wait=ratelimit.retry_after(window), detail=message or None)


def check_auth_failures(request: HttpRequest) -> None:
    """A 429 while the client's address is over the ``anon`` rate of refused tokens."""
    key, limit, window = _auth_failures(request)
    if ratelimit.count(key, window) >= limit:
        raise Throttled(wait=ratelimit.retry_after(window), detail=AUTH_FAILURES_THROTTLED)


def count_auth_failure(request: HttpRequest) -> None:
    """Count one refused token against the client's address; the one over the rate is a 429."""
    rate_limit(*_auth_failures(request), message=AUTH_FAILURES_THROTTLED)


def _auth_failures(request: HttpRequest) -> tuple[str, int, int]:
    limit, window = ApiAnonThrottle().parse_rate(settings.API_THROTTLE_RATES["anon"])
    return f"api_auth_failures:{client_ip(request) or 'unknown'}", limit, window

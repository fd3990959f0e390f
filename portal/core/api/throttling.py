"""Request rates per signed-in user, read from settings at each request (docs/api.md).

DRF reads ``DEFAULT_THROTTLE_RATES`` once, when its classes are defined; reading
``API_THROTTLE_RATES`` per request lets an operator's setting (and a test's) apply as it is.
A request over the rate is answered 429 with ``Retry-After`` (``portal.core.api.errors``).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import Throttled
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from portal.core import ratelimit


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

"""Request rates per signed-in user, read from settings at each request (docs/api.md).

DRF reads ``DEFAULT_THROTTLE_RATES`` once, when its classes are defined; reading
``API_THROTTLE_RATES`` per request lets an operator's setting (and a test's) apply as it is.
A request over the rate is answered 429 with ``Retry-After`` (``portal.core.api.errors``).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


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

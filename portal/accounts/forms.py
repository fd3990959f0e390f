"""The sign-in forms of the client area and the admin, both throttled (see ``throttle``)."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

from portal.accounts.throttle import LoginThrottle


class ThrottledLoginMixin:
    """Refuses an attempt over a limit without checking its password; counts every failure."""

    #: Seconds until the attempt may be retried, once this form refused it as throttled.
    retry_after: int | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username is None or not self.cleaned_data.get("password"):
            return super().clean()  # no password tried: the form only reports missing fields
        throttle = LoginThrottle(request=self.request, username=username)
        if not throttle.reserve():
            self.retry_after = throttle.retry_after()
            raise ValidationError(_throttled_message(self.retry_after), code="throttled")
        cleaned_data = super().clean()
        throttle.succeeded()
        return cleaned_data


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


def _throttled_message(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return ngettext(
        "Too many failed sign-in attempts. Please wait %(minutes)d minute and try again.",
        "Too many failed sign-in attempts. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}

"""Staff need two-factor authentication before using the admin (``PORTAL_STAFF_REQUIRE_2FA``)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from portal.accounts.selectors import staff_lacks_two_factor

SET_UP_2FA_FIRST = (
    "Staff must use two-factor authentication: set up an authenticator app to continue to "
    "the admin."
)


class StaffTwoFactorMiddleware:
    """Sends signed-in staff without an authenticator from the admin to set one up.

    With an authenticator, signing in already asked for its code (allauth's stage runs on the
    customer and the admin login alike). Signing out stays open to them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_set_up(request):
            messages.warning(request, SET_UP_2FA_FIRST)
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    def _must_set_up(self, request: HttpRequest) -> bool:
        if not (settings.PORTAL_STAFF_REQUIRE_2FA and request.user.is_authenticated):
            return False
        admin_root = reverse("admin:index")
        if not request.path.startswith(admin_root) or request.path == reverse("admin:logout"):
            return False
        return staff_lacks_two_factor(request.user)

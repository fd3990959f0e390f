from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import reverse

from portal.accounts.forms import ThrottledAuthenticationForm


class LoginView(auth_views.LoginView):
    """Django's sign-in view with the throttled form; a throttled attempt answers 429."""

    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        """The safe ``next`` target, unless it is this page: that would loop, so go home instead."""
        target = super().get_redirect_url()
        if target and urlsplit(target).path == self.request.path:
            return ""
        return target

    def get_default_redirect_url(self) -> str:
        """Without a safe ``next``, staff go to the admin: they have no services to land on."""
        if self.request.user.is_staff:
            return reverse("admin:index")
        return super().get_default_redirect_url()

    def form_invalid(self, form: ThrottledAuthenticationForm) -> HttpResponse:
        return answer_throttled(super().form_invalid(form), form)


def answer_throttled(response: HttpResponse, form: object) -> HttpResponse:
    """429 with ``Retry-After`` when the sign-in form refused the attempt as throttled."""
    retry_after = getattr(form, "retry_after", None)
    if retry_after is not None:
        response.status_code = 429
        response["Retry-After"] = str(retry_after)
    return response

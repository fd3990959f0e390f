"""The admin site: Django's, with a throttled sign-in that goes on through allauth's stages.

The admin's own login page and form stay (throttled, 429 like the customer one), but a right
password does not sign in at once: it continues as allauth's password login, so staff with
two-factor authentication are asked their code on the same page customers are.

Installed as the default site by ``PortalAdminConfig`` (``portal/accounts/apps.py``), so
``admin.site`` and ``@admin.register`` everywhere use it.
"""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.login import perform_password_login
from allauth.account.models import Login
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from portal.accounts.forms import ThrottledAdminAuthenticationForm
from portal.accounts.views import answer_throttled


class AdminLoginView(auth_views.LoginView):
    authentication_form = ThrottledAdminAuthenticationForm
    template_name = "admin/login.html"

    def form_valid(self, form: ThrottledAdminAuthenticationForm) -> HttpResponse:
        """Continue as allauth's password login: its stages (two-factor code) run next.

        allauth's ``perform_password_login`` (internal; allauth is pinned below 66) also
        records the password step, as its own login form does.
        """
        user = form.get_user()
        login = Login(user=user, redirect_url=self.get_success_url())
        credentials = {"username": user.get_username()}
        return perform_password_login(self.request, credentials, login)

    def form_invalid(self, form: ThrottledAdminAuthenticationForm) -> HttpResponse:
        return answer_throttled(super().form_invalid(form), form)

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index", current_app=self.request.current_app)


class PortalAdminSite(admin.AdminSite):
    login_form = ThrottledAdminAuthenticationForm

    @method_decorator(never_cache)
    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Django's ``AdminSite.login``, with ``AdminLoginView`` as the view."""
        index_path = reverse("admin:index", current_app=self.name)
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(index_path)
        context = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = index_path
        context.update(extra_context or {})
        request.current_app = self.name
        return AdminLoginView.as_view(extra_context=context)(request)

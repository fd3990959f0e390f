"""The admin site: Django's, with a throttled sign-in that answers 429 like the customer one.

Installed as the default site by ``PortalAdminConfig`` (``portal/accounts/apps.py``), so
``admin.site`` and ``@admin.register`` everywhere use it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from portal.accounts.forms import ThrottledAdminAuthenticationForm
from portal.accounts.views import answer_throttled


class PortalAdminSite(admin.AdminSite):
    login_form = ThrottledAdminAuthenticationForm

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().login(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        return answer_throttled(response, context.get("form"))

"""Servers (panels) and server groups; the write-only token form and Test connection."""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import path

from provisioning.admin.common import PORTAL_ADMIN_CSS
from provisioning.models import LIVE_STATUSES, Server, ServerGroup
from provisioning.panel_overview import server_test_connection
from vpnpanel.redaction import MIN_SECRET_LENGTH

API_TOKEN_PATTERN = re.compile(r"[\x21-\x7e]+")
# Where the token is sent: changing any of these needs the token entered again.
ADDRESS_FIELDS = ("hostname", "ip_address", "port", "secure")
ADDRESS_CHANGED_MESSAGE = (
    "Enter the API token again: the panel's address changed, and the stored token is only ever "
    "sent to the address it was entered for."
)
# The same bound as the masking of secrets inside texts: every token stored is masked everywhere.
TOKEN_TOO_SHORT_MESSAGE = (
    f"This is too short for a panel API token (at least {MIN_SECRET_LENGTH} characters): copy "
    "the whole token from the panel's Profile → API Tokens."
)


class ServerAdminForm(forms.ModelForm):
    """The API token is write-only: never rendered back; left empty on edit keeps the stored one."""

    api_token = forms.CharField(
        label="API token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Bearer token from the panel's Profile → API Tokens "
        f"(at least {MIN_SECRET_LENGTH} characters). Leave empty to keep the stored token, unless "
        "you change the address: the token must then be entered again.",
    )

    class Meta:
        model = Server
        fields = (
            "name",
            "group",
            "hostname",
            "ip_address",
            "port",
            "secure",
            "api_token",
            "max_accounts",
            "enabled",
        )

    def clean_api_token(self) -> str:
        token = self.cleaned_data["api_token"]
        if token and not API_TOKEN_PATTERN.fullmatch(token):
            raise forms.ValidationError(
                "The token contains spaces, line breaks or characters a panel never issues."
            )
        if token and len(token) < MIN_SECRET_LENGTH:
            raise forms.ValidationError(TOKEN_TOO_SHORT_MESSAGE)
        return token

    def clean(self) -> dict:
        cleaned = super().clean()
        address_in_error = "hostname" in self.errors or "ip_address" in self.errors
        if not address_in_error and not cleaned.get("hostname") and not cleaned.get("ip_address"):
            raise forms.ValidationError("Give the panel's host name or its IP address.")
        if "api_token" in cleaned and not cleaned["api_token"]:
            self._keep_stored_token(cleaned)
        return cleaned

    def _keep_stored_token(self, cleaned: dict) -> None:
        """An empty token field keeps the stored token, but only for the address it was entered for.

        Otherwise anyone allowed to edit a server could point it at a listener of their own and
        press Test connection to receive the Bearer token.
        """
        if not self.instance.pk:
            self.add_error("api_token", "Paste the panel's API token.")
        elif self.address_changed(cleaned):
            self.add_error("api_token", ADDRESS_CHANGED_MESSAGE)
        else:
            cleaned["api_token"] = self.instance.api_token

    def address_changed(self, cleaned: dict) -> bool:
        """Whether the submitted address differs from the stored one (a field in error counts).

        ``self.instance`` still holds the stored values: the form copies its data onto the
        instance only after ``clean``.
        """
        return any(
            name not in cleaned or (cleaned[name] or None) != (getattr(self.instance, name) or None)
            for name in ADDRESS_FIELDS
        )


class ServerInline(admin.TabularInline):
    model = Server
    fields = ("name", "hostname", "port", "secure", "enabled")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ServerGroup)
class ServerGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)
    inlines = (ServerInline,)


@admin.register(Server)
class ServerAdmin(admin.ModelAdmin):
    form = ServerAdminForm
    list_display = (
        "name",
        "group",
        "address",
        "port",
        "secure",
        "enabled",
        "live_services",
        "max_accounts",
    )
    list_filter = ("enabled", "secure", "group", "reconciliation_complete")
    list_select_related = ("group",)
    search_fields = ("name", "hostname")
    readonly_fields = ("reconciled_at", "reconciliation_complete", "reconciliation_summary")

    class Media:
        css = PORTAL_ADMIN_CSS

    def get_queryset(self, request: HttpRequest):
        live = Count("services", filter=Q(services__status__in=LIVE_STATUSES))
        return super().get_queryset(request).annotate(live_service_count=live)

    @admin.display(description="live services", ordering="live_service_count")
    def live_services(self, server: Server) -> int:
        return server.live_service_count

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/test-connection/",
                self.admin_site.admin_view(self.test_connection_view),
                name="provisioning_server_test_connection",
            )
        ]
        return urls + super().get_urls()

    def test_connection_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST only: asks the panel of the saved server record, logging each call."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        server = self.get_object(request, unquote(object_id))
        if server is None:
            raise Http404("No such server.")
        if not self.has_change_permission(request, server):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"Test connection: {server}",
            "opts": self.opts,
            "original": server,
            "report": server_test_connection(server),
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/provisioning/server/test_connection.html", context)

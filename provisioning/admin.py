import re

from django import forms
from django.contrib import admin

from provisioning.models import Server, ServerGroup

API_TOKEN_PATTERN = re.compile(r"[\x21-\x7e]+")


class ServerAdminForm(forms.ModelForm):
    """The API token is write-only: never rendered back; left empty on edit keeps the stored one."""

    api_token = forms.CharField(
        label="API token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Bearer token from the panel's Profile → API Tokens. Leave empty to keep the "
        "stored token.",
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
            "enabled",
        )

    def clean_api_token(self) -> str:
        token = self.cleaned_data["api_token"]
        if token and not API_TOKEN_PATTERN.fullmatch(token):
            raise forms.ValidationError(
                "The token contains spaces, line breaks or characters a panel never issues."
            )
        if token:
            return token
        if self.instance.pk:
            return self.instance.api_token
        raise forms.ValidationError("Paste the panel's API token.")

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("hostname") and not cleaned.get("ip_address"):
            raise forms.ValidationError("Give the panel's host name or its IP address.")
        return cleaned


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
    list_display = ("name", "group", "address", "port", "secure", "enabled")
    list_filter = ("enabled", "secure", "group")
    list_select_related = ("group",)
    search_fields = ("name", "hostname")

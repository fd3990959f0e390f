from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from portal.core.models import Branding


@admin.register(Branding)
class BrandingAdmin(admin.ModelAdmin):
    """One row: the list goes straight to it, and it cannot be added twice or deleted."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        ("Shop", {"fields": ("shop_name", "logo", "primary_colour", "support_email")}),
        (
            "Seller (printed on invoices)",
            {"fields": ("legal_name", "address", "country", "vat_id")},
        ),
        ("Links", {"fields": ("terms_url", "privacy_url")}),
    )

    def changelist_view(self, request: HttpRequest, extra_context=None):
        Branding.current()  # the row exists from the first visit on
        return HttpResponseRedirect(reverse("admin:core_branding_change", args=[1]))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

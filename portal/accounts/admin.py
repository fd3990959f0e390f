"""Customers (with their billing details) and users in the admin, each with a two-factor reset."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from portal.accounts import services
from portal.accounts.models import ApiToken, Customer

User = get_user_model()
RESET_PERMISSION = "auth.change_user"


class TwoFactorResetMixin:
    """The admin action that removes a user's authenticators (they lost their device)."""

    actions = ["reset_two_factor"]

    def _users(self, queryset: QuerySet) -> list:
        return list(queryset)

    @admin.action(
        description="Reset two-factor authentication (remove the authenticators)",
        permissions=["reset_two_factor"],
    )
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet) -> None:
        users = self._users(queryset)
        reset = [
            user for user in users if services.user_two_factor_reset(user=user, actor=request.user)
        ]
        if reset:
            names = ", ".join(user.get_username() for user in reset)
            message = ngettext(
                "Two-factor authentication reset for %(names)s: they sign in with their "
                "password alone until they set it up again; their API tokens are revoked.",
                "Two-factor authentication reset for %(names)s: they sign in with their "
                "passwords alone until they set it up again; their API tokens are revoked.",
                len(reset),
            ) % {"names": names}
            self.message_user(request, message, messages.SUCCESS)
        if len(reset) < len(users):
            self.message_user(
                request,
                "The others had no two-factor authentication to reset.",
                messages.WARNING,
            )

    def has_reset_two_factor_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RESET_PERMISSION)


@admin.register(Customer)
class CustomerAdmin(TwoFactorResetMixin, admin.ModelAdmin):
    list_display = ("id", "display_name", "user", "country", "vat_id", "tax_exempt", "created_at")
    list_filter = ("tax_exempt", "country")
    list_select_related = ("user",)
    search_fields = (
        "user__username",
        "user__email",
        "company_name",
        "billing_name",
        "vat_id",
    )
    raw_id_fields = ("user",)
    fieldsets = (
        (None, {"fields": ("user",)}),
        (
            "Billing details",
            {
                "fields": (
                    "billing_name",
                    "company_name",
                    "address_line1",
                    "address_line2",
                    ("postcode", "city"),
                    "country",
                    "vat_id",
                )
            },
        ),
        ("Tax", {"fields": ("tax_exempt",)}),
    )

    def _users(self, queryset: QuerySet) -> list:
        return [customer.user for customer in queryset.select_related("user")]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Every user's API tokens, read-only (only their user sees a token, once); revocable."""

    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username", "user__email")
    fields = list_display
    readonly_fields = list_display
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            services.api_token_revoke(token=token)
        self.message_user(request, f"{len(tokens)} token(s) revoked.", messages.SUCCESS)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.change_apitoken")


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(TwoFactorResetMixin, UserAdmin):
    actions = ["reset_two_factor"]

"""The shop in the admin: plans and their prices, coupons, orders (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from portal.billing.admin import ReadOnlyAdmin
from portal.store.models import Coupon, Order, OrderItem, Plan, PlanPrice
from portal.store.selectors import coupons_with_uses


class PlanPriceInline(admin.TabularInline):
    model = PlanPrice
    extra = 1


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "on_sale", "position")
    list_editable = ("on_sale", "position")
    list_select_related = ("product",)
    inlines = (PlanPriceInline,)
    search_fields = ("product__name", "slug")


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "kind",
        "value",
        "scope",
        "valid_until",
        "uses",
        "max_uses",
        "active",
    )
    list_filter = ("kind", "scope", "active")
    search_fields = ("code",)
    readonly_fields = ("uses",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Coupon]:
        return coupons_with_uses()

    @admin.display(description="uses", ordering="uses")
    def uses(self, coupon: Coupon) -> int:
        """Orders with it whose invoice is not cancelled."""
        return coupon.uses


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    fields = ("plan", "cycle", "quantity", "price", "setup_fee")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "customer", "invoice", "coupon", "created_at")
    list_select_related = ("customer__user", "invoice", "coupon")
    search_fields = ("customer__user__email", "invoice__number")
    inlines = (OrderItemInline,)
    readonly_fields = ("customer", "checkout_token", "invoice", "coupon", "created_at")

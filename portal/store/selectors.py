"""Read queries of the store, shaped for the customer's pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from portal.accounts.countries import COUNTRIES
from portal.accounts.models import Customer
from portal.billing.models import InvoiceStatus
from portal.core.models import Branding
from portal.store.models import Coupon, Order, Plan


def customer_orders(*, user: Any) -> QuerySet[Order]:
    """A signed-in customer's orders with their invoice and items (never another's)."""
    return (
        Order.objects.filter(customer__user=user)
        .select_related("invoice")
        .prefetch_related("items__plan__product")
    )


def taxed_at_home(customer: Customer) -> str:
    """The seller's country by name when the customer's invoices are taxed as a sale there for
    want of a country of their own (the checkout says so); empty otherwise."""
    if customer.country or customer.tax_exempt:
        return ""
    seller = Branding.current().country.upper()
    return dict(COUNTRIES).get(seller, seller) or "the shop's country"


def coupons_with_uses() -> QuerySet[Coupon]:
    """Coupons with ``uses``: their orders whose invoice is not cancelled (an unpaid order holds
    its use until its invoice is cancelled)."""
    return Coupon.objects.annotate(
        uses=Count("order", filter=~Q(order__invoice__status=InvoiceStatus.CANCELLED))
    )


def staff_plans() -> QuerySet[Plan]:
    """Every plan, on sale or not, with its product and prices (the staff API)."""
    return Plan.objects.select_related("product").prefetch_related("prices")

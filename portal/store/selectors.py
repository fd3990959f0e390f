"""Read queries of the store, shaped for the customer's pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from portal.store.models import Order


def customer_orders(*, user: Any) -> QuerySet[Order]:
    """A signed-in customer's orders with their invoice and items (never another's)."""
    return (
        Order.objects.filter(customer__user=user)
        .select_related("invoice")
        .prefetch_related("items__plan__product")
    )

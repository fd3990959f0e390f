"""The customer's orders in the REST API (docs/api.md), under /api/v1/orders/.

What My orders shows, through the same selector (``customer_orders``: another customer's order
is a 404): each order's items (plan, cycle, quantity, prices) and the invoice that pays for it,
whose status is the order's. Amounts are strings at the currency's minor unit, never floats.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.billing.api import NoStoreMixin
from portal.billing.api_fields import MoneyField
from portal.billing.cycles import BillingCycle
from portal.billing.models import InvoiceStatus
from portal.core.api.permissions import IsCustomer
from portal.store.models import Order
from portal.store.selectors import customer_orders

TAGS = ["orders"]


def own_orders(request: Request) -> QuerySet[Order]:
    return customer_orders(user=request.user).select_related("coupon")


class OrderPlanOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    product_id = serializers.IntegerField()


class OrderItemOutput(serializers.Serializer):
    plan = OrderPlanOutput()
    cycle = serializers.ChoiceField(choices=BillingCycle.choices)
    quantity = serializers.IntegerField()
    price = MoneyField(help_text="Each, per cycle, as ordered.")
    setup_fee = MoneyField(help_text="Each, once.")


class OrderOutput(serializers.Serializer):
    """An order: its items and the invoice that pays for it (paid, the services are set up)."""

    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    status = serializers.ChoiceField(
        source="invoice.status",
        choices=InvoiceStatus.choices,
        help_text="Its invoice's status: unpaid, paid, or cancelled.",
    )
    invoice_id = serializers.IntegerField()
    invoice_number = serializers.CharField(
        source="invoice.number", allow_null=True, help_text="Null while the invoice is unpaid."
    )
    coupon = serializers.CharField(source="coupon.code", allow_null=True, default=None)
    currency = serializers.CharField(source="invoice.currency")
    subtotal = MoneyField(source="invoice.subtotal")
    tax_amount = MoneyField(source="invoice.tax_amount")
    total = MoneyField(source="invoice.total")
    items = OrderItemOutput(many=True, source="items.all")


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        field_name="invoice__status", choices=InvoiceStatus.choices, label="Its invoice's status."
    )

    class Meta:
        model = Order
        fields = ["status"]


@extend_schema(tags=TAGS, summary="Your orders")
class OrderListApi(NoStoreMixin, ListAPIView):
    permission_classes = [IsCustomer]
    serializer_class = OrderOutput
    filterset_class = OrderFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema, made without a user
            return Order.objects.none()
        return own_orders(self.request)


class OrderDetailApi(NoStoreMixin, APIView):
    permission_classes = [IsCustomer]

    @extend_schema(tags=TAGS, summary="One of your orders", responses=OrderOutput)
    def get(self, request: Request, pk: int) -> Response:
        order = own_orders(request).filter(pk=pk).first()
        if order is None:
            raise Http404
        return Response(OrderOutput(order).data)

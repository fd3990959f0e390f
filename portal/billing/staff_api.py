"""Staff's invoices and payments in the REST API, under /api/v1/staff/invoices/ and
/api/v1/staff/payments/: the lists, one of each, and the admin's buttons that are billing
services — record a bank transfer (a payment of the balance marks the invoice paid) and cancel
an unpaid invoice. Amounts are strings at the currency's minor unit, never floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.billing.api import InvoiceOutput
from portal.billing.api_fields import MoneyField
from portal.billing.models import Gateway, Invoice, InvoiceKind, InvoiceStatus, Payment
from portal.billing.selectors import overdue_invoices_q, staff_invoices, staff_payments
from portal.billing.services import invoice_cancel, payment_get_or_record
from portal.core.api.permissions import IsStaffWithModelPermission
from portal.core.audit import CHANGE, admin_log

INVOICE_TAGS = ["staff: invoices"]
PAYMENT_TAGS = ["staff: payments"]


class StaffInvoiceOutput(InvoiceOutput):
    """The customer's view of an invoice, with whose it is and whether it is overdue."""

    customer_id = serializers.IntegerField()
    customer_email = serializers.EmailField(source="customer.user.email")
    overdue = serializers.SerializerMethodField()

    @extend_schema_field(serializers.BooleanField(help_text="Unpaid past its due date."))
    def get_overdue(self, invoice: Invoice) -> bool:
        return (
            invoice.kind == InvoiceKind.INVOICE
            and invoice.status == InvoiceStatus.UNPAID
            and invoice.due_at < timezone.now()
        )


class StaffPaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    invoice_id = serializers.IntegerField()
    invoice_number = serializers.CharField(source="invoice.number", allow_null=True)
    customer_id = serializers.IntegerField()
    gateway = serializers.ChoiceField(choices=Gateway.choices)
    reference = serializers.CharField(help_text="The gateway's id of the payment.")
    amount = MoneyField()
    refunded = MoneyField()
    currency = serializers.CharField()
    received_at = serializers.DateTimeField()
    recorded_by = serializers.CharField(
        source="recorded_by.get_username", allow_null=True, default=None
    )


class StaffInvoiceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=InvoiceStatus.choices)
    kind = django_filters.ChoiceFilter(choices=InvoiceKind.choices)
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Unpaid past its due date (true), or not (false)."
    )

    class Meta:
        model = Invoice
        fields = ["status", "kind", "customer", "overdue"]

    def filter_overdue(self, invoices: QuerySet, name: str, value: bool) -> QuerySet:
        overdue = overdue_invoices_q(timezone.now())
        return invoices.filter(overdue) if value else invoices.exclude(overdue)


class StaffPaymentFilter(django_filters.FilterSet):
    gateway = django_filters.ChoiceFilter(choices=Gateway.choices)

    class Meta:
        model = Payment
        fields = ["invoice", "customer", "gateway"]


class StaffCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="Kept in the audit trail.")


class StaffPaymentInput(serializers.Serializer):
    """A bank transfer received for an invoice: recorded once per bank reference."""

    invoice_id = serializers.PrimaryKeyRelatedField(
        queryset=Invoice.objects.all(), source="invoice"
    )
    amount = MoneyField(help_text="Its whole balance marks the invoice paid; more is credit.")
    reference = serializers.CharField(
        max_length=200,
        help_text="The bank's reference of the transfer: sent again, the payment is not "
        "recorded twice.",
    )

    def validate_amount(self, amount: Decimal) -> Decimal:
        if amount <= 0:
            raise serializers.ValidationError("A payment is for an amount above zero.")
        return amount


class StaffInvoicesApi(ListAPIView):
    """GET: invoices and credit notes (view permission of invoices)."""

    permission_classes = [IsStaffWithModelPermission]
    serializer_class = StaffInvoiceOutput
    filterset_class = StaffInvoiceFilter

    def get_queryset(self):
        return staff_invoices()

    @extend_schema(tags=INVOICE_TAGS, summary="Invoices and credit notes")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class StaffInvoiceApi(APIView):
    permission_classes = [IsStaffWithModelPermission]
    staff_model = Invoice

    @extend_schema(tags=INVOICE_TAGS, summary="One invoice", responses=StaffInvoiceOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(StaffInvoiceOutput(get_object_or_404(staff_invoices(), pk=pk)).data)


class StaffInvoiceCancelApi(APIView):
    """POST (change permission of invoices): cancel an unpaid invoice nothing was paid on."""

    permission_classes = [IsStaffWithModelPermission]
    staff_model = Invoice
    staff_action = "change"

    @extend_schema(
        tags=INVOICE_TAGS,
        summary="Cancel an unpaid invoice",
        description="Only an unpaid invoice with nothing paid on it (409 otherwise; a paid one "
        "is corrected with a credit note). Cancelling again changes nothing.",
        request=StaffCancelInput,
        responses=StaffInvoiceOutput,
    )
    def post(self, request: Request, pk: int) -> Response:
        invoice = get_object_or_404(staff_invoices(), pk=pk)
        given = StaffCancelInput(data=request.data)
        given.is_valid(raise_exception=True)
        with transaction.atomic():
            before = Invoice.objects.select_for_update().get(pk=invoice.pk).status
            cancelled = invoice_cancel(
                invoice=invoice, actor=request.user, reason=given.validated_data["reason"]
            )
            if before != cancelled.status:
                admin_log(
                    actor=request.user, obj=cancelled, flag=CHANGE, message="Invoice cancelled."
                )
        return Response(StaffInvoiceOutput(get_object_or_404(staff_invoices(), pk=pk)).data)


class StaffPaymentsApi(ListAPIView):
    """GET lists payments (view permission of payments); POST records a bank transfer (add
    permission)."""

    permission_classes = [IsStaffWithModelPermission]
    serializer_class = StaffPaymentOutput
    filterset_class = StaffPaymentFilter

    def get_queryset(self):
        return staff_payments()

    @extend_schema(tags=PAYMENT_TAGS, summary="Payments")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=PAYMENT_TAGS,
        summary="Record a bank transfer",
        description="201 with the payment; the same reference again answers 200 with the "
        "payment recorded the first time (nothing changes). A reference recorded for another "
        "invoice is a 409.",
        request=StaffPaymentInput,
        responses={201: StaffPaymentOutput, 200: StaffPaymentOutput},
    )
    def post(self, request: Request) -> Response:
        given = StaffPaymentInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        with transaction.atomic():
            payment, created = payment_get_or_record(
                invoice=data["invoice"],
                amount=data["amount"],
                gateway=Gateway.BANK_TRANSFER,
                reference=data["reference"],
                actor=request.user,
            )
            if created:
                admin_log(
                    actor=request.user,
                    obj=payment.invoice,
                    flag=CHANGE,
                    message="Payment recorded.",
                )
        shown = StaffPaymentOutput(get_object_or_404(staff_payments(), pk=payment.pk)).data
        return Response(shown, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class StaffPaymentApi(APIView):
    permission_classes = [IsStaffWithModelPermission]
    staff_model = Payment

    @extend_schema(tags=PAYMENT_TAGS, summary="One payment", responses=StaffPaymentOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(StaffPaymentOutput(get_object_or_404(staff_payments(), pk=pk)).data)

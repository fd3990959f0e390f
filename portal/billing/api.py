"""The customer's invoices and credit in the REST API (docs/api.md), under /api/v1/invoices/ and
/api/v1/credit/.

What the client area's billing pages show, through the same code: invoices read through
``customer_invoices`` (another customer's invoice is a 404), the PDF from ``documents`` under the
invoice PDF page's rate limit (one budget for the page and the API), the credit page's balance
and movements. Amounts are strings at the currency's minor unit, never floats.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.billing import views as billing_views
from portal.billing.api_fields import MoneyField
from portal.billing.cycles import BillingCycle
from portal.billing.documents import invoice_pdf, pdf_filename
from portal.billing.models import Invoice, InvoiceKind, InvoiceStatus
from portal.billing.money import currency
from portal.billing.selectors import credit_balance, customer_credit_entries, customer_invoices
from portal.core.api.permissions import IsCustomer
from portal.core.api.throttling import rate_limit
from portal.core.http import no_store

INVOICE_TAGS = ["invoices"]
CREDIT_TAGS = ["credit"]


class NoStoreMixin:
    """Answers are never stored by a browser or proxy (the client area's billing pages aren't)."""

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any):
        return no_store(super().finalize_response(request, response, *args, **kwargs))


def own_invoice(request: Request, pk: int) -> Invoice:
    invoice = customer_invoices(user=request.user).prefetch_related("lines").filter(pk=pk).first()
    if invoice is None:
        raise Http404
    return invoice


class InvoiceLineOutput(serializers.Serializer):
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneyField()
    amount = MoneyField()
    product_id = serializers.IntegerField(
        allow_null=True, help_text="The plan's product it orders."
    )
    cycle = serializers.ChoiceField(choices=[("", "None"), *BillingCycle.choices])


class InvoiceOutput(serializers.Serializer):
    """An invoice or credit note as its page shows it: a proforma has no number until paid."""

    id = serializers.IntegerField()
    number = serializers.CharField(allow_null=True, help_text="Null while proforma (unpaid).")
    kind = serializers.ChoiceField(choices=InvoiceKind.choices)
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    currency = serializers.CharField()
    subtotal = MoneyField()
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="Percent.")
    tax_label = serializers.CharField()
    reverse_charge = serializers.BooleanField(help_text="The buyer accounts for the tax.")
    tax_amount = MoneyField()
    total = MoneyField()
    amount_paid = MoneyField()
    balance_due = MoneyField()
    issued_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    credited_invoice_id = serializers.IntegerField(
        allow_null=True, help_text="The invoice a credit note corrects."
    )
    notes = serializers.CharField()
    lines = InvoiceLineOutput(many=True, source="lines.all")


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=InvoiceStatus.choices)
    kind = django_filters.ChoiceFilter(choices=InvoiceKind.choices)

    class Meta:
        model = Invoice
        fields = ["status", "kind"]


@extend_schema(tags=INVOICE_TAGS, summary="Your invoices and credit notes")
class InvoiceListApi(NoStoreMixin, ListAPIView):
    permission_classes = [IsCustomer]
    serializer_class = InvoiceOutput
    filterset_class = InvoiceFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema, made without a user
            return Invoice.objects.none()
        return customer_invoices(user=self.request.user).prefetch_related("lines")


class InvoiceDetailApi(NoStoreMixin, APIView):
    permission_classes = [IsCustomer]

    @extend_schema(tags=INVOICE_TAGS, summary="One of your invoices", responses=InvoiceOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(InvoiceOutput(own_invoice(request, pk)).data)


class PdfRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; the PDF itself is a plain response."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None):
        return data


class InvoicePdfApi(NoStoreMixin, APIView):
    permission_classes = [IsCustomer]
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        tags=INVOICE_TAGS,
        summary="Your invoice as a PDF",
        description="The invoice PDF page's document (the same template), as an attachment "
        "named by its number. Limited per user together with that page.",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="PDF")
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        invoice = own_invoice(request, pk)
        rate_limit(
            f"invoice_pdf:{request.user.pk}",
            billing_views.PDF_RATE_LIMIT,
            billing_views.PDF_RATE_WINDOW,
            message=billing_views.TOO_MANY_PDFS,
        )
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(True, pdf_filename(invoice))
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response):  # an error: the error body, in JSON, whatever asked
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class CreditEntryOutput(serializers.Serializer):
    amount = MoneyField(min_value=None, help_text="Positive adds credit, negative uses it.")
    reason = serializers.CharField()
    invoice_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class CreditOutput(serializers.Serializer):
    balance = MoneyField(help_text="What your credit can still pay.")
    currency = serializers.CharField()
    entries = CreditEntryOutput(
        many=True,
        help_text=f"The latest {billing_views.CREDIT_ENTRIES_SHOWN} movements, newest first.",
    )


class CreditApi(NoStoreMixin, APIView):
    permission_classes = [IsCustomer]

    @extend_schema(
        tags=CREDIT_TAGS,
        summary="Your credit balance",
        description="The credit page's balance and latest movements.",
        responses=CreditOutput,
    )
    def get(self, request: Request) -> Response:
        entries = customer_credit_entries(user=request.user)[: billing_views.CREDIT_ENTRIES_SHOWN]
        body = {
            "balance": credit_balance(request.user.customer),
            "currency": currency(),
            "entries": entries,
        }
        return Response(CreditOutput(body).data)

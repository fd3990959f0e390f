"""Bank transfer: the customer sees the instructions; an admin records the payment."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.billing.models import Gateway, Invoice


class BankTransferGateway:
    key = Gateway.BANK_TRANSFER
    label = "Bank transfer"

    def available(self) -> bool:
        return bool(settings.BILLING_BANK_TRANSFER_INSTRUCTIONS)

    def start(self, request: HttpRequest, invoice: Invoice) -> HttpResponse:
        context = {
            "invoice": invoice,
            "instructions": settings.BILLING_BANK_TRANSFER_INSTRUCTIONS,
            "reference": transfer_reference(invoice),
        }
        return render(request, "billing/bank_transfer.html", context)


def transfer_reference(invoice: Invoice) -> str:
    """What the customer writes on the transfer, so the admin finds the invoice."""
    return f"INVOICE {invoice.pk}"

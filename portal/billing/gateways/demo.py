"""The demo gateway: pays at once, so a newcomer can go order → pay → active in ``make run``.

Only with ``BILLING_DEMO_GATEWAY`` on, which the settings refuse outside DEBUG.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from portal.billing.models import Gateway, Invoice
from portal.billing.services import payment_record


class DemoGateway:
    key = Gateway.DEMO
    label = "Demo payment (pays at once; not in production)"

    def available(self) -> bool:
        return settings.BILLING_DEMO_GATEWAY

    def start(self, request: HttpRequest, invoice: Invoice) -> HttpResponse:
        if invoice.balance_due > 0:
            payment_record(
                invoice=invoice,
                amount=invoice.balance_due,
                gateway=self.key,
                reference=f"demo:{uuid.uuid4()}",
                actor=request.user,
            )
            messages.success(request, "Paid with the demo gateway.")
        return redirect("billing:invoice_detail", pk=invoice.pk)

"""Stripe Checkout: the Pay button opens a Checkout Session and sends the browser to Stripe.

The browser's return proves nothing: the payment is recorded from a verified webhook, or when
the return page asks Stripe itself (``portal.billing.services.stripe_checkout``). Offered only
when both ``STRIPE_SECRET_KEY`` and ``STRIPE_WEBHOOK_SECRET`` are set.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect

from portal.billing.gateways import stripe_api
from portal.billing.models import Gateway, Invoice, StripeCheckoutStatus
from portal.billing.services.invoices import BillingRefused
from portal.billing.services.stripe_checkout import stripe_checkout_open

UNREACHABLE = (
    "We could not open the card payment just now; nothing was charged. Please try again in a "
    "moment."
)


class StripeCheckoutGateway:
    key = Gateway.STRIPE
    label = "Pay by card (Stripe)"

    def available(self) -> bool:
        return stripe_api.configured()

    def start(self, request: HttpRequest, invoice: Invoice) -> HttpResponse:
        try:
            checkout = stripe_checkout_open(invoice=invoice)
        except BillingRefused as exc:
            messages.error(request, exc.message)
            return redirect("billing:invoice_detail", pk=invoice.pk)
        except stripe_api.StripeError:
            messages.error(request, UNREACHABLE)
            return redirect("billing:invoice_detail", pk=invoice.pk)
        if checkout.status != StripeCheckoutStatus.OPEN or not checkout.url:
            messages.info(request, "This payment is being processed already.")
            return redirect("billing:invoice_detail", pk=invoice.pk)
        # 303: the browser follows a POST's answer with a GET to Stripe's page.
        return HttpResponseRedirect(checkout.url, status=303)

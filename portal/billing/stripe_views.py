"""Stripe's two ways back to the portal: the webhook (Stripe's signed word) and the return page
(the customer's browser, which proves nothing: the page asks Stripe itself)."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from portal.billing.gateways import stripe_api
from portal.billing.models import StripeCheckout, StripeCheckoutStatus
from portal.billing.services.stripe_checkout import stripe_checkout_confirm, stripe_event_handle
from portal.core.http import no_store

logger = logging.getLogger("portal.billing.stripe")


@csrf_exempt  # Stripe has no CSRF token: the signature on the raw body authenticates it.
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """200 once the event is handled (or was before); 400, changing nothing, unless the body is
    signed by Stripe with our endpoint's secret, recently (so always 400 while none is set)."""
    try:
        event = stripe_api.event_verified(request.body, request.headers.get("Stripe-Signature"))
    except stripe_api.BadSignature as exc:
        logger.warning("Stripe webhook refused: %s", exc)
        return HttpResponseBadRequest("Invalid Stripe signature.", content_type="text/plain")
    handled = stripe_event_handle(event=event)
    return JsonResponse({"received": True, "duplicate": handled is None})


@login_required
@require_GET
def stripe_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Where Stripe sends the customer after paying. Its query string is never read: the page
    asks Stripe about the checkout's session and records the payment if Stripe says it is paid
    (idempotent, so this GET changes only what a webhook would)."""
    checkout = (
        StripeCheckout.objects.filter(pk=pk, invoice__customer__user=request.user)
        .select_related("invoice")
        .first()
    )
    if checkout is None:
        raise Http404("No such payment.")
    unreachable = not stripe_api.configured()
    if not unreachable:
        try:
            checkout = stripe_checkout_confirm(checkout=checkout)
        except stripe_api.StripeError:
            unreachable = True
    if checkout.status == StripeCheckoutStatus.PAID:
        messages.success(request, "Thank you: your payment is received.")
        return redirect("billing:invoice_detail", pk=checkout.invoice_id)
    context = {"checkout": checkout, "invoice": checkout.invoice, "unreachable": unreachable}
    return no_store(render(request, "billing/stripe_return.html", context))

"""Paying an invoice through Stripe Checkout: opening a session, and applying what Stripe says
about it — from a verified webhook, or from the return page asking Stripe itself.

Nothing the browser says marks anything paid: only a session Stripe reports as paid (in a signed
webhook or in its answer to our own request) whose amount, currency and invoice are those we
asked for. Both ways record the payment with the same reference (the session id), so whichever
comes first records it and the other changes nothing (``payment_record`` is idempotent on it).
A checkout's status only moves forward: a late "expired" or "failed" never undoes "paid".
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from portal.billing import events
from portal.billing.gateways import stripe_api
from portal.billing.models import (
    Gateway,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    StripeCheckout,
    StripeEvent,
)
from portal.billing.models import StripeCheckoutStatus as Status
from portal.billing.money import currency
from portal.billing.selectors import CHECKOUT_REUSABLE_FOR, LIVE_CHECKOUT
from portal.billing.services.invoices import BillingRefused
from portal.billing.services.payments import buyer_fix, payment_record

logger = logging.getLogger("portal.billing.stripe")


# Opening a session ------------------------------------------------------------------------------


def stripe_checkout_open(*, invoice: Invoice) -> StripeCheckout:
    """The checkout to send the customer to for the invoice's balance due.

    The open one for the same amount when there is one (a second click, the back button), else
    a new attempt, committed with its idempotency key before Stripe is asked. A failed ask
    (timeout, lost answer) leaves the attempt to be asked again with the same key, so Stripe
    makes one session of it. Raises BillingRefused, or stripe_api.StripeError when Stripe did
    not make the session.
    """
    checkout = _attempt_for(invoice)
    if checkout.status != Status.CREATING:
        return checkout
    try:
        session = stripe_api.session_create(
            params=_session_params(checkout), idempotency_key=checkout.idempotency_key
        )
    except stripe_api.StripeError as exc:
        _ask_failed(checkout, exc)
        raise
    return _session_known(checkout, session)


def _attempt_for(invoice: Invoice) -> StripeCheckout:
    try:
        return _find_or_add_attempt(invoice)
    except IntegrityError:
        # A second click made the same attempt between our look and our insert: use it.
        return _find_or_add_attempt(invoice)


def _find_or_add_attempt(invoice: Invoice) -> StripeCheckout:
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _check_payable(locked)
        now = timezone.now()
        stale = StripeCheckout.objects.filter(
            invoice=locked, status__in=LIVE_CHECKOUT, created_at__lt=now - CHECKOUT_REUSABLE_FOR
        )
        stale.update(status=Status.EXPIRED, updated_at=now)
        amount = locked.balance_due
        live = StripeCheckout.objects.filter(
            invoice=locked, amount=amount, status__in=LIVE_CHECKOUT
        )
        if existing := live.select_related("invoice__customer__user").first():
            return existing
        # Nothing paid yet: no other checkout is live (it would have the same amount), so the
        # buyer is copied afresh for the one being paid now.
        if buyer_fix(locked, refresh=not locked.amount_paid):
            locked.save(update_fields=["buyer"])
        return StripeCheckout.objects.create(
            invoice=locked,
            amount=amount,
            currency=locked.currency,
            amount_minor=stripe_api.to_minor(amount, locked.currency),
            idempotency_key=f"portal-checkout-{uuid.uuid4().hex}",
        )


def _check_payable(invoice: Invoice) -> None:
    if invoice.kind != InvoiceKind.INVOICE or invoice.status != InvoiceStatus.UNPAID:
        raise BillingRefused("This invoice is not open for payment.")
    if invoice.balance_due <= 0:
        raise BillingRefused("Nothing is left to pay on this invoice.")
    if invoice.currency != currency():
        raise BillingRefused(f"This invoice is in {invoice.currency}; the shop takes {currency()}.")


def _session_params(checkout: StripeCheckout) -> dict[str, Any]:
    """The same for every ask of one attempt (Stripe refuses a key sent with other params)."""
    invoice = checkout.invoice
    ids = {"invoice_id": str(invoice.pk), "checkout_id": str(checkout.pk)}
    params: dict[str, Any] = {
        "mode": "payment",
        "client_reference_id": str(invoice.pk),
        "metadata": ids,
        "payment_intent_data": {"metadata": ids},
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": checkout.currency.lower(),
                    "unit_amount": checkout.amount_minor,
                    "product_data": {"name": f"Invoice #{invoice.pk}"},
                },
            }
        ],
        "success_url": settings.PORTAL_BASE_URL
        + reverse("billing:stripe_return", args=[checkout.pk]),
        "cancel_url": settings.PORTAL_BASE_URL
        + reverse("billing:invoice_detail", args=[invoice.pk]),
    }
    if email := invoice.customer.user.email:
        params["customer_email"] = email
    return params


def _ask_failed(checkout: StripeCheckout, exc: stripe_api.StripeError) -> None:
    """Noted on the attempt. A key Stripe refuses as used with other params is given up (its
    session, if any, was never shown to anyone); else the next click asks again with it."""
    logger.warning("Stripe checkout #%s of invoice #%s: %s", checkout.pk, checkout.invoice_id, exc)
    changes: dict[str, Any] = {"last_error": str(exc)[:255], "updated_at": timezone.now()}
    if isinstance(exc, stripe_api.StripeRefused) and exc.idempotency_conflict:
        changes["status"] = Status.EXPIRED
    StripeCheckout.objects.filter(pk=checkout.pk, status=Status.CREATING).update(**changes)


def _session_known(checkout: StripeCheckout, session: dict[str, Any]) -> StripeCheckout:
    with transaction.atomic():
        locked = StripeCheckout.objects.select_for_update().get(pk=checkout.pk)
        locked.session_id = session["id"]
        locked.url = session.get("url") or ""
        locked.expires_at = _when(session.get("expires_at"))
        locked.last_error = ""
        if locked.status == Status.CREATING:
            locked.status = Status.OPEN
        locked.save()
    return locked


def _when(timestamp: Any) -> datetime | None:
    if not isinstance(timestamp, int):
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC)


# Applying what Stripe says ----------------------------------------------------------------------


def stripe_session_apply(*, session: dict[str, Any], source: str) -> str:
    """Record the payment of one of our Checkout Sessions if Stripe reports it paid for the
    amount, currency and invoice we asked for; say what was done. ``session`` must come from
    Stripe (a verified webhook or our own request). Runs in the caller's transaction."""
    checkout = _checkout_of(session)
    if checkout is None:
        return "ignored: not a checkout of this portal"
    if checkout.status == Status.PAID:
        return "paid already"
    if problem := _mismatch(checkout, session):
        return _rejected(checkout, session, problem, source)
    if session.get("payment_status") != "paid":
        return f"not paid yet (payment status {session.get('payment_status')!s:.40})"
    intent = session.get("payment_intent") or ""
    try:
        payment = payment_record(
            invoice=checkout.invoice,
            amount=stripe_api.from_minor(session["amount_total"], checkout.currency),
            gateway=Gateway.STRIPE,
            reference=session["id"],
            actor=None,
            data={"session": session["id"], "payment_intent": intent, "checkout": checkout.pk,
                  "source": source},
        )  # fmt: skip
    except BillingRefused as exc:
        return _rejected(checkout, session, exc.message, source)
    StripeCheckout.objects.filter(pk=checkout.pk).update(
        status=Status.PAID, payment=payment, payment_intent=intent, last_error="",
        updated_at=timezone.now(),
    )  # fmt: skip
    return "paid"


def _checkout_of(session: dict[str, Any]) -> StripeCheckout | None:
    """Ours by session id; or by the attempt id in its metadata when we never learned the
    session's id (the answer to our create was lost), which is then adopted."""
    session_id = str(session.get("id") or "")
    found = StripeCheckout.objects.select_related("invoice").filter(session_id=session_id).first()
    if found is not None or not session_id:
        return found
    checkout_id = str((session.get("metadata") or {}).get("checkout_id") or "")
    if not checkout_id.isdigit():
        return None
    adopted = StripeCheckout.objects.filter(pk=int(checkout_id), session_id__isnull=True)
    if not adopted.update(session_id=session_id, updated_at=timezone.now()):
        return None
    return StripeCheckout.objects.select_related("invoice").get(pk=int(checkout_id))


def _mismatch(checkout: StripeCheckout, session: dict[str, Any]) -> str | None:
    """Why this session cannot pay the checkout's invoice, or None."""
    expected = str(checkout.invoice_id)
    metadata = session.get("metadata") or {}
    for_invoice = (metadata.get("invoice_id"), session.get("client_reference_id"))
    if for_invoice != (expected, expected):
        return f"the session names invoice {for_invoice[0]!s:.20}, not {expected}"
    if session.get("mode") != "payment":
        return f"the session's mode is {session.get('mode')!s:.20}, not payment"
    paid_in = str(session.get("currency") or "").upper()
    if paid_in != checkout.currency:
        return f"the currency is {paid_in:.10}, not {checkout.currency}"
    amount = session.get("amount_total")
    if type(amount) is not int or amount != checkout.amount_minor:
        return f"the amount is {amount!s:.20}, not {checkout.amount_minor} (minor units)"
    return None


def _rejected(checkout: StripeCheckout, session: dict[str, Any], problem: str, source: str) -> str:
    """Stripe reports money we cannot apply: left for an admin, with the reason, in the log,
    on the attempt and in the invoice's audit trail."""
    logger.warning(
        "Stripe session %s not applied to invoice #%s (%s): %s",
        session.get("id"), checkout.invoice_id, source, problem,
    )  # fmt: skip
    StripeCheckout.objects.filter(pk=checkout.pk).update(
        last_error=problem[:255], updated_at=timezone.now()
    )
    events.record(
        customer_id=checkout.invoice.customer_id, invoice=checkout.invoice,
        action="stripe_payment_rejected", session=session.get("id"), reason=problem,
        source=source,
    )  # fmt: skip
    return f"rejected: {problem}"


def _session_closed(session: dict[str, Any], status: str) -> str:
    """Expired or failed: only a live attempt moves; a paid one stays paid."""
    checkout = _checkout_of(session)
    if checkout is None:
        return "ignored: not a checkout of this portal"
    live = StripeCheckout.objects.filter(pk=checkout.pk, status__in=LIVE_CHECKOUT)
    if live.update(status=status, updated_at=timezone.now()):
        return f"checkout {status}"
    return f"ignored: the checkout is {checkout.status} already"


def _payment_failed(intent: dict[str, Any]) -> str:
    """A declined card: the session stays open (the customer may try another), so only noted."""
    checkout_id = str((intent.get("metadata") or {}).get("checkout_id") or "")
    if not checkout_id.isdigit():
        return "ignored: not a checkout of this portal"
    error = intent.get("last_payment_error") or {}
    note = f"A payment attempt failed ({error.get('code') or 'declined'!s:.60})."
    live = StripeCheckout.objects.filter(pk=int(checkout_id), status__in=LIVE_CHECKOUT)
    if live.update(last_error=note, updated_at=timezone.now()):
        return "noted: a payment attempt failed"
    return "ignored: the checkout is not open"


# Webhook events ---------------------------------------------------------------------------------

_HANDLERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "checkout.session.completed": lambda obj: stripe_session_apply(session=obj, source="webhook"),
    "checkout.session.async_payment_succeeded": lambda obj: stripe_session_apply(
        session=obj, source="webhook"
    ),
    "checkout.session.expired": lambda obj: _session_closed(obj, Status.EXPIRED),
    "checkout.session.async_payment_failed": lambda obj: _session_closed(obj, Status.FAILED),
    "payment_intent.payment_failed": _payment_failed,
}


def stripe_event_handle(*, event: dict[str, Any]) -> StripeEvent | None:
    """Act on a verified webhook event once: its row (unique event id) and its effect commit
    together, so a redelivery finds the row and changes nothing (None); a failure rolls both
    back, and Stripe's retry runs it again. Types the portal does not act on are recorded."""
    obj = (event.get("data") or {}).get("object") or {}
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = StripeEvent.objects.create(
                    event_id=str(event["id"])[:255],
                    type=str(event.get("type") or "")[:100],
                    object_id=str(obj.get("id") or "")[:255],
                    livemode=bool(event.get("livemode")),
                )
        except IntegrityError:
            return None
        handler = _HANDLERS.get(row.type)
        row.outcome = (handler(obj) if handler else "ignored: not a type the portal acts on")[:255]
        row.save(update_fields=["outcome"])
    logger.info("Stripe event %s (%s): %s", row.event_id, row.type, row.outcome)
    return row


# The return page --------------------------------------------------------------------------------


def stripe_checkout_confirm(*, checkout: StripeCheckout) -> StripeCheckout:
    """Ask Stripe about the checkout's session and apply its answer as a webhook would: the
    return page's remedy for a webhook that is late or lost. Raises stripe_api.StripeError."""
    if checkout.status != Status.PAID and checkout.session_id:
        session = stripe_api.session_retrieve(checkout.session_id)
        if session.get("id") != checkout.session_id:
            raise stripe_api.StripeRefused("Stripe answered with another session.")
        with transaction.atomic():
            outcome = stripe_session_apply(session=session, source="return page")
            if session.get("status") == "expired":
                outcome = _session_closed(session, Status.EXPIRED)
        logger.info("Stripe checkout #%s confirmed on return: %s", checkout.pk, outcome)
    checkout.refresh_from_db()
    return checkout

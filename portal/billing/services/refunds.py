"""Giving back money of a payment: to the customer's credit balance, or through Stripe.

A refund is saved, and counted against its payment, before anything leaves: two refunds at once
can never give back more than was paid, and a refund through Stripe carries an idempotency key
saved before the first attempt, so asking again after a timeout refunds once. The invoice stays
as it is: the accounting correction is a credit note (``credit_note_issue``).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from portal.billing import events
from portal.billing.gateways import stripe_api
from portal.billing.models import (
    CreditEntry,
    Gateway,
    Payment,
    PaymentRefund,
    RefundMethod,
    RefundStatus,
)
from portal.billing.money import ZERO, money
from portal.billing.services.invoices import BillingRefused

logger = logging.getLogger("portal.billing.stripe")

#: Stripe's refund statuses that mean the money is on its way back (or back).
GIVEN_BACK = {"succeeded", "pending", "requires_action"}


def payment_refund(
    *,
    payment: Payment,
    amount: Decimal,
    actor: Any,
    to_credit: bool,
    key: str,
    reason: str = "",
) -> PaymentRefund:
    """Give back ``amount`` of ``payment``: to the credit balance (``to_credit``) or through
    Stripe, never more than was paid and not yet given back.

    ``key`` is the caller's id of this request (the admin form's token): the same key again is
    the same refund, never a second one. The answer's status says how it went: ``done``; or
    ``requested`` when Stripe did not answer (nothing more is given back until
    :func:`payment_refund_retry` sends it again with the same idempotency key). Raises
    BillingRefused when it cannot be done (nothing changed).
    """
    amount = money(amount)
    if amount <= 0:
        raise BillingRefused("A refund is for an amount above zero.")
    refund = _reserve(payment, amount, actor, to_credit, key, reason)
    if refund.status != RefundStatus.REQUESTED:
        return refund
    return _send_to_stripe(refund)


def payment_refund_retry(*, refund: PaymentRefund) -> PaymentRefund:
    """Ask Stripe again for a refund it did not confirm, with the same idempotency key."""
    refund.refresh_from_db()
    if refund.status != RefundStatus.REQUESTED:
        return refund
    return _send_to_stripe(refund)


def refundable(payment: Payment) -> Decimal:
    """What is left to give back: paid, less given back and less refunds still in flight."""
    in_flight = payment.refunds.filter(status=RefundStatus.REQUESTED).aggregate(
        total=Sum("amount")
    )["total"]
    return money(payment.amount - payment.refunded - (in_flight or ZERO))


def _reserve(
    payment: Payment, amount: Decimal, actor: Any, to_credit: bool, key: str, reason: str
) -> PaymentRefund:
    """The refund row, committed and counted against the payment; a refund to credit is done
    here in the same transaction."""
    if not key or len(key) > 100:
        raise BillingRefused("A refund needs the request's key (at most 100 characters).")
    method = RefundMethod.CREDIT if to_credit else RefundMethod.STRIPE
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("invoice").get(pk=payment.pk)
        if same := PaymentRefund.objects.filter(idempotency_key=f"refund-{key}").first():
            if (same.payment_id, same.amount, same.method) != (locked.pk, amount, method):
                raise BillingRefused("This refund request was made for another refund already.")
            return same
        _check(locked, amount, method)
        refund = PaymentRefund.objects.create(
            payment=locked,
            amount=amount,
            method=method,
            idempotency_key=f"refund-{key}",
            reason=reason[:200],
            actor=actor if getattr(actor, "pk", None) else None,
        )
        if to_credit:
            CreditEntry.objects.create(
                customer_id=locked.customer_id,
                amount=amount,
                reason=f"Refund of a {locked.get_gateway_display()} payment",
                invoice=locked.invoice,
                payment=locked,
            )
            _complete(locked, refund, gateway_refund_id="")
    return refund


def _check(payment: Payment, amount: Decimal, method: str) -> None:
    if payment.refunds.filter(status=RefundStatus.REQUESTED).exists():
        raise BillingRefused(
            "A refund of this payment is waiting for Stripe's answer; retry that one first."
        )
    left = refundable(payment)
    if amount > left:
        raise BillingRefused(f"At most {left} {payment.currency} of this payment can be refunded.")
    if method == RefundMethod.STRIPE:
        if payment.gateway != Gateway.STRIPE:
            raise BillingRefused("Only a card payment made through Stripe is refunded through it.")
        if not payment.data.get("payment_intent"):
            raise BillingRefused("This payment has no Stripe payment intent to refund.")
        if not stripe_api.configured():
            raise BillingRefused("Stripe is not set up.")


def _send_to_stripe(refund: PaymentRefund) -> PaymentRefund:
    payment = refund.payment
    try:
        answer = stripe_api.refund_create(
            payment_intent=payment.data["payment_intent"],
            amount_minor=stripe_api.to_minor(refund.amount, payment.currency),
            metadata={"refund_id": str(refund.pk), "payment_id": str(payment.pk)},
            idempotency_key=refund.idempotency_key,
        )
    except stripe_api.StripeUnavailable as exc:
        logger.warning("Stripe refund #%s not confirmed: %s", refund.pk, exc)
        PaymentRefund.objects.filter(pk=refund.pk).update(error=str(exc)[:255])
        refund.refresh_from_db()
        return refund
    except stripe_api.StripeRefused as exc:
        _fail(refund, str(exc))
        raise BillingRefused(f"{exc} Nothing was refunded.") from None
    if answer.get("status") not in GIVEN_BACK:
        _fail(refund, f"Stripe's refund {answer.get('id')} is {answer.get('status')}.")
        raise BillingRefused(f"Stripe's refund is {answer.get('status')}; nothing was refunded.")
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        _complete(locked, refund, gateway_refund_id=str(answer.get("id") or ""))
    refund.refresh_from_db()
    return refund


def _complete(payment: Payment, refund: PaymentRefund, *, gateway_refund_id: str) -> None:
    """Counted once: only a requested refund becomes done (``payment`` is locked)."""
    done = PaymentRefund.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED).update(
        status=RefundStatus.DONE,
        gateway_refund_id=gateway_refund_id,
        error="",
        completed_at=timezone.now(),
    )
    if not done:
        return
    payment.refunded += refund.amount
    payment.save(update_fields=["refunded"])
    refund.status = RefundStatus.DONE
    events.record(
        customer_id=payment.customer_id, invoice=payment.invoice,
        actor=refund.actor, action="payment_refunded", payment=payment.pk, amount=refund.amount,
        method=refund.method, gateway_refund=gateway_refund_id, reason=refund.reason,
    )  # fmt: skip


def _fail(refund: PaymentRefund, error: str) -> None:
    logger.warning("Stripe refund #%s failed: %s", refund.pk, error)
    PaymentRefund.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED).update(
        status=RefundStatus.FAILED, error=error[:255], completed_at=timezone.now()
    )

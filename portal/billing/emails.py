"""The billing emails: an invoice issued, overdue, a payment received; a service suspended or
terminated by dunning; a cancellation confirmed.

An invoice's email is recorded in the transaction that issues it, so it goes out exactly when the
invoice exists. A payment's email is recorded just after the paying transaction commits: that
transaction holds the invoice-number counter, and nothing that can wait runs under that lock
(a process stopping in between loses the email, never the payment).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from portal.billing.models import CancellationRequest, Invoice, Payment, Renewal
from portal.billing.selectors import credit_balance
from portal.core import clock
from portal.notifications.email import send

logger = logging.getLogger(__name__)

INVOICE_ISSUED = "invoice_issued"
INVOICE_OVERDUE = "invoice_overdue"
PAYMENT_RECEIVED = "payment_received"
SERVICE_SUSPENDED = "service_suspended"
SERVICE_TERMINATED = "service_terminated"
CANCELLATION_CONFIRMED = "cancellation_confirmed"


def invoice_url(invoice: Invoice) -> str:
    return f"{settings.PORTAL_BASE_URL}{reverse('billing:invoice_detail', args=[invoice.pk])}"


def invoice_issued_send(*, invoice: Invoice, again: bool = False) -> bool:
    """Email the customer their new invoice (once; ``again`` for an admin's resend)."""
    once_key = None if again else f"{INVOICE_ISSUED}:invoice:{invoice.pk}"
    return _send_about(invoice, INVOICE_ISSUED, once_key=once_key)


def invoice_overdue_send(*, invoice: Invoice, days_overdue: int, step: int) -> bool:
    """Remind the customer of an unpaid invoice, once per reminder ``step`` (its days after the
    due date): the once-key is unique in the database, so a second run sends nothing."""
    once_key = f"{INVOICE_OVERDUE}:invoice:{invoice.pk}:{step}"
    return _send_about(invoice, INVOICE_OVERDUE, once_key=once_key, days_overdue=days_overdue)


def dunning_notice_send(*, kind: str, renewal: Renewal, **context: object) -> bool:
    """Tell the customer dunning suspended (``SERVICE_SUSPENDED``) or terminated
    (``SERVICE_TERMINATED``) the renewal's service; once per renewal and kind."""
    return _send_about(
        renewal.invoice,
        kind,
        once_key=f"{kind}:renewal:{renewal.pk}",
        service_id=renewal.subscription.service_id,
        plan=renewal.subscription.plan_description,
        **context,
    )


def cancellation_confirmed_send(*, cancellation: CancellationRequest) -> bool:
    """Tell the customer their cancellation is approved: which service ends, and when; once
    per request, recorded in the approving transaction."""
    subscription = cancellation.subscription
    customer = subscription.customer
    if not customer.user.email:
        logger.warning("Cancellation %s: no email address; not confirmed", cancellation.pk)
        return False
    path = reverse("client_area:service_detail", args=[subscription.service_id])
    return send(
        kind=CANCELLATION_CONFIRMED,
        to=customer.user.email,
        template=CANCELLATION_CONFIRMED,
        context={
            "customer_name": customer.display_name,
            "service_id": subscription.service_id,
            "plan": subscription.plan_description,
            "cancellation": cancellation,
            "immediately": cancellation.terminate_on <= clock.today(),
            "service_url": f"{settings.PORTAL_BASE_URL}{path}",
        },
        obj=cancellation,
        once_key=f"{CANCELLATION_CONFIRMED}:cancellation:{cancellation.pk}",
    )


def payment_received_send_on_commit(*, payment: Payment) -> None:
    """Email the customer a receipt for ``payment`` once the payment is committed."""
    transaction.on_commit(partial(_payment_received_send, payment.pk), robust=True)


def _payment_received_send(payment_id: int) -> bool:
    payment = Payment.objects.select_related("invoice__customer__user").get(pk=payment_id)
    invoice = payment.invoice
    return _send_about(
        invoice,
        PAYMENT_RECEIVED,
        once_key=f"{PAYMENT_RECEIVED}:payment:{payment.pk}",
        payment=payment,
        credit=credit_balance(invoice.customer_id),
        orders_services=invoice.lines.filter(product__isnull=False).exists(),
    )


def _send_about(invoice: Invoice, kind: str, *, once_key: str | None, **context: object) -> bool:
    """The ``kind`` email about ``invoice`` to its customer, with the invoice's context; False
    (logged) when the customer has no address or ``once_key`` was used before."""
    address = invoice.customer.user.email
    if not address:
        logger.warning("Invoice %s: its customer has no email address; no %s", invoice.pk, kind)
        return False
    return send(
        kind=kind,
        to=address,
        template=kind,
        context={**_invoice_context(invoice), **context},
        obj=invoice,
        once_key=once_key,
    )


def _invoice_context(invoice: Invoice) -> dict[str, object]:
    renewal = Renewal.objects.filter(invoice=invoice).select_related("subscription").first()
    return {
        "customer_name": invoice.customer.display_name,
        "invoice": invoice,
        "renewal": renewal,
        "renewal_last_day": renewal.period_end - timedelta(days=1) if renewal else None,
        "lines": list(invoice.lines.all()),
        "invoice_url": invoice_url(invoice),
    }

"""The order confirmation: what was ordered, its invoice and how to pay it."""

from __future__ import annotations

import logging

from portal.billing.emails import invoice_url
from portal.notifications.email import send
from portal.store.models import Order

logger = logging.getLogger(__name__)

KIND = "order_confirmation"


def order_confirmation_send(*, order: Order) -> bool:
    """Email the customer their order, once; recorded in the caller's transaction."""
    address = order.customer.user.email
    if not address:
        logger.warning("Order %s: its customer has no email address; not sent", order.pk)
        return False
    invoice = order.invoice
    return send(
        kind=KIND,
        to=address,
        template=KIND,
        context={
            "customer_name": order.customer.display_name,
            "order": order,
            "invoice": invoice,
            "lines": list(invoice.lines.all()),
            "invoice_url": invoice_url(invoice),
        },
        obj=order,
        once_key=f"{KIND}:order:{order.pk}",
    )

"""The one order billing takes a subscription's rows in, so that payments, dunning,
cancellations and changes of plan never wait on each other in a circle (a deadlock)."""

from __future__ import annotations

from portal.billing.models import Invoice, InvoiceStatus, Subscription


def subscription_lock(subscription_id: int) -> Subscription:
    """The subscription's unpaid renewal invoices, then the subscription itself, locked (the
    order payments, dunning and cancellations take them in)."""
    list(
        Invoice.objects.select_for_update(of=("self",))
        .filter(
            renewal__subscription_id=subscription_id,
            renewal__superseded=False,
            status=InvoiceStatus.UNPAID,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return Subscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)

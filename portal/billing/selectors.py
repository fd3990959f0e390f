"""Read queries of billing, shaped for the client area and the admin."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from portal.billing.models import (
    CreditEntry,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    StripeCheckout,
    StripeCheckoutStatus,
    Subscription,
)
from portal.billing.money import ZERO, money


def customer_invoices(*, user: Any) -> QuerySet[Invoice]:
    """The invoices and credit notes of a signed-in customer, never another's."""
    return Invoice.objects.filter(customer__user=user).select_related("customer")


def customer_invoice(*, user: Any, invoice_id: int) -> Invoice | None:
    return customer_invoices(user=user).filter(pk=invoice_id).first()


def customer_credit_entries(*, user: Any) -> QuerySet[CreditEntry]:
    return CreditEntry.objects.filter(customer__user=user).select_related("invoice")


def next_due_dates(service_ids: list[int]) -> dict[int, Any]:
    """Each service's next due date (services without a billing record are left out)."""
    rows = Subscription.objects.filter(service_id__in=service_ids)
    return dict(rows.values_list("service_id", "next_due_date"))


def open_invoices(*, user: Any) -> QuerySet[Invoice]:
    return customer_invoices(user=user).filter(kind=InvoiceKind.INVOICE, status="unpaid")


def credit_balance(customer: Any) -> Decimal:
    """The sum of the customer's credit entries (a Customer or its id)."""
    total = CreditEntry.objects.filter(customer=customer).aggregate(total=Sum("amount"))["total"]
    return money(total or ZERO)


#: Card checkouts that may still be paid at Stripe.
LIVE_CHECKOUT = (StripeCheckoutStatus.CREATING, StripeCheckoutStatus.OPEN)
#: A live checkout older than this is not reused: Stripe forgets an idempotency key and expires
#: an unpaid session after 24 hours.
CHECKOUT_REUSABLE_FOR = timedelta(hours=23)


def card_checkout_live(invoice: Invoice) -> bool:
    """Whether a card checkout for the invoice may still be paid (opened in the last 23 h)."""
    since = timezone.now() - CHECKOUT_REUSABLE_FOR
    return StripeCheckout.objects.filter(
        invoice=invoice, status__in=LIVE_CHECKOUT, created_at__gte=since
    ).exists()


def invoice_counts() -> dict[str, int]:
    """Invoices and credit notes issued so far, and the invoices paid: they only ever grow
    (invoices are never deleted, and a paid one keeps its ``paid_at``)."""
    return Invoice.objects.aggregate(
        invoices_issued=Count("pk", filter=Q(kind=InvoiceKind.INVOICE)),
        invoices_paid=Count("pk", filter=Q(kind=InvoiceKind.INVOICE, paid_at__isnull=False)),
        credit_notes_issued=Count("pk", filter=Q(kind=InvoiceKind.CREDIT_NOTE)),
    )


def overdue_invoices_q(now: datetime) -> Q:
    """Invoices unpaid past their due date at ``now`` (credit notes are never due)."""
    return Q(kind=InvoiceKind.INVOICE, status=InvoiceStatus.UNPAID, due_at__lt=now)


def staff_invoices() -> QuerySet[Invoice]:
    """Every invoice and credit note with its customer and lines (the staff API)."""
    return Invoice.objects.select_related("customer__user").prefetch_related("lines")


def staff_payments() -> QuerySet[Payment]:
    """Every payment with its invoice and who recorded it (the staff API)."""
    return Payment.objects.select_related("invoice", "recorded_by")

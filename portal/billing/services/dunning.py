"""Dunning: what happens to an invoice left unpaid after its due date.

So far, reminders: ``BILLING_OVERDUE_REMINDER_DAYS`` after the due date (1, 3 and 7 days by
default) the customer is reminded, once per step — the email's once-key is unique in the
database, so the daily task run twice (or a day late, when the latest step passed is sent)
sends each reminder once.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils import timezone

from portal.billing.emails import invoice_overdue_send
from portal.billing.models import Invoice, InvoiceKind, InvoiceStatus
from portal.core import clock


def overdue_reminders_send(*, today: date | None = None) -> int:
    """Remind each unpaid invoice whose due date has passed of the latest reminder step it
    has reached; returns how many reminders went out now."""
    today = today or clock.today()
    steps = settings.BILLING_OVERDUE_REMINDER_DAYS
    if not steps:
        return 0
    overdue = Invoice.objects.filter(
        kind=InvoiceKind.INVOICE, status=InvoiceStatus.UNPAID, due_at__date__lte=today
    ).select_related("customer__user")
    sent = 0
    for invoice in overdue:
        days = (today - timezone.localdate(invoice.due_at)).days
        reached = [step for step in steps if step <= days]
        if reached and invoice_overdue_send(invoice=invoice, days_overdue=days, step=reached[-1]):
            sent += 1
    return sent

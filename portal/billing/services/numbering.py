"""Gapless, unique invoice numbers: the next number of a series and year is taken from its
counter row, locked (SELECT … FOR UPDATE) in the transaction that pays the invoice. If that
transaction rolls back, so does the increment: no number is ever skipped or given twice."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction

from portal.billing.models import InvoiceCounter, InvoiceKind

FORMATS = {
    InvoiceKind.INVOICE: "BILLING_INVOICE_NUMBER_FORMAT",
    InvoiceKind.CREDIT_NOTE: "BILLING_CREDIT_NOTE_NUMBER_FORMAT",
}


def next_number(kind: str, when: datetime) -> str:
    """The next number of ``kind``'s series for ``when``'s year; call inside the transaction that
    uses it (it holds the counter's row lock until that commits)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Invoice numbers are taken inside the transaction that uses them.")
    year = when.year
    # The row may not exist yet: create it if absent (a concurrent creator wins, no error).
    InvoiceCounter.objects.bulk_create(
        [InvoiceCounter(series=kind, year=year)], ignore_conflicts=True
    )
    counter = InvoiceCounter.objects.select_for_update().get(series=kind, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return getattr(settings, FORMATS[kind]).format(year=year, number=counter.last)

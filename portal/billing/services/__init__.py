"""Billing's use cases; views, admin, gateways and tasks call only these.

- :mod:`.invoices` — issue a (proforma) invoice, cancel one, credit notes.
- :mod:`.payments` — apply a payment: paid in full → final number, snapshots, services ordered.
- :mod:`.credit` — the customer's credit balance.
- :mod:`.numbering` — the locked counter behind gapless invoice numbers.
"""

from portal.billing.services.credit import credit_apply, credit_balance
from portal.billing.services.invoices import (
    LineSpec,
    credit_note_issue,
    invoice_cancel,
    invoice_create,
    invoice_email_again,
)
from portal.billing.services.payments import payment_get_or_record, payment_record

__all__ = [
    "LineSpec",
    "credit_apply",
    "credit_balance",
    "credit_note_issue",
    "invoice_cancel",
    "invoice_create",
    "invoice_email_again",
    "payment_get_or_record",
    "payment_record",
]

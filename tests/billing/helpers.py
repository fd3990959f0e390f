"""What billing's time-travel tests share: the clock at noon of a day, and paying an invoice's
balance by bank transfer."""

from __future__ import annotations

from datetime import datetime

import time_machine

from portal.billing.services import payment_record


def at(day: str) -> time_machine.travel:
    """The clock at noon (UTC) of ``day`` (``2027-01-31``), standing still."""
    return time_machine.travel(datetime.fromisoformat(f"{day}T12:00:00+00:00"), tick=False)


def pay(invoice, reference: str) -> None:
    """Record the invoice's whole balance as a bank transfer ``reference``; refreshes it."""
    payment_record(
        invoice=invoice, amount=invoice.balance_due, gateway="bank_transfer",
        reference=reference, actor=None,
    )  # fmt: skip
    invoice.refresh_from_db()

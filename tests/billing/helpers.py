"""What billing's time-travel tests share: the clock at noon of a day, and paying an invoice's
balance by bank transfer."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import time_machine

from portal.billing.models import Subscription
from portal.billing.services import LineSpec, invoice_create, payment_record
from provisioning.models import Service, ServiceStatus


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


def monthly_service_paid(customer, product, reference: str = "bank-1"):
    """A VPN 100 at 9.99 a month ordered and paid by ``customer``, its service marked active
    (no panel): the subscription."""
    line = LineSpec(
        description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=product,
        cycle="monthly",
    )  # fmt: skip
    pay(invoice_create(customer=customer, lines=[line], actor=None), reference)
    subscription = Subscription.objects.get(customer=customer)
    Service.objects.filter(pk=subscription.service_id).update(
        status=ServiceStatus.ACTIVE, pending_action=""
    )
    return subscription

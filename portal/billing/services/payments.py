"""Applying a payment: one transaction that records it, and when the invoice is paid in full
gives it its final number, copies the buyer's and seller's details onto it and orders its
services through provisioning's lifecycle API (queued for the worker when it commits).

Safe to repeat: a payment is identified by its gateway and the gateway's reference, so a webhook
delivered twice, a return page and a webhook for the same payment, or an admin's double click
record it once. Ordering the services inside the same transaction makes them exactly-once too:
either the invoice is paid and its services exist, or neither.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.billing import events
from portal.billing.cycles import add_cycle
from portal.billing.emails import payment_received_send_on_commit
from portal.billing.models import (
    CreditEntry,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    Renewal,
    Subscription,
)
from portal.billing.money import money
from portal.billing.parties import buyer_details, seller_details
from portal.billing.services.invoices import BillingRefused
from portal.billing.services.numbering import next_number
from portal.billing.services.plan_change_apply import plan_changes_settle
from portal.core.queue import enqueue_on_commit
from provisioning.models import ServiceAction, ServiceStatus
from provisioning.services import service_create

ENDED = (ServiceStatus.TERMINATED, ServiceStatus.FAILED)
#: Unsuspends a service dunning suspended once its overdue invoice is paid (billing/tasks.py).
RESTORE_TASK = "billing.restore_paid_service"


def payment_record(
    *,
    invoice: Invoice,
    amount: Decimal,
    gateway: str,
    reference: str,
    actor: Any,
    data: dict[str, Any] | None = None,
) -> Payment:
    """Record ``amount`` received for ``invoice`` through ``gateway`` (its ``reference``).

    Part of the balance: the invoice stays unpaid. All of it: paid. More: the rest becomes
    credit. For an invoice cancelled meanwhile: all of it becomes credit. Recorded already (same
    gateway and reference): that payment is returned and nothing changes.
    """
    return payment_get_or_record(
        invoice=invoice, amount=amount, gateway=gateway, reference=reference, actor=actor,
        data=data,
    )[0]  # fmt: skip


def payment_get_or_record(
    *,
    invoice: Invoice,
    amount: Decimal,
    gateway: str,
    reference: str,
    actor: Any,
    data: dict[str, Any] | None = None,
) -> tuple[Payment, bool]:
    """:func:`payment_record`, and whether this call recorded the payment (False: it was
    recorded already, perhaps by a concurrent twin — decided under the invoice's lock, so of two
    concurrent calls with one reference exactly one says True)."""
    amount = money(amount)
    if amount <= 0:
        raise BillingRefused("A payment is for an amount above zero.")
    if not reference:
        raise BillingRefused("A payment needs the gateway's reference.")
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        # Looked up under the invoice's lock: a concurrent twin has committed or not started.
        if existing := Payment.objects.filter(gateway=gateway, reference=reference).first():
            if existing.invoice_id != locked.pk:
                raise BillingRefused(
                    f"The {gateway} payment {reference!r} was for another invoice already."
                )
            return existing, False
        if locked.kind != InvoiceKind.INVOICE:
            raise BillingRefused("A credit note is not paid.")
        payment = _create(locked, amount, gateway, reference, actor, data)
        payment_received_send_on_commit(payment=payment)
        applied = amount if locked.status == InvoiceStatus.UNPAID else money(0)
        applied = min(applied, locked.balance_due)
        locked.amount_paid += applied
        if applied:
            buyer_fix(locked)
        if amount > applied:
            CreditEntry.objects.create(
                customer_id=locked.customer_id,
                amount=amount - applied,
                reason=f"Overpayment of {locked}"
                if locked.status != InvoiceStatus.CANCELLED
                else f"Payment for the cancelled {locked}",
                invoice=locked,
                payment=payment,
            )
        events.record(
            customer_id=locked.customer_id, invoice=locked, actor=actor, action="payment_received",
            gateway=gateway, amount=amount, reference=reference,
        )  # fmt: skip
        if locked.status == InvoiceStatus.UNPAID and locked.amount_paid >= locked.total:
            _settle(locked, actor)
        locked.save()
    return payment, True


def buyer_fix(invoice: Invoice, *, refresh: bool = False) -> bool:
    """Copy the buyer onto the (locked) invoice as payment starts: its first payment, or a card
    checkout opened for its amount (``refresh``: copied again for a new one). While a payment
    is under way a change of the customer's tax details does not re-tax it
    (``invoices_retax_unpaid``), so the amount being paid stays the amount due and the invoice
    names the buyer it was taxed for. Returns whether it copied (the caller saves)."""
    if refresh or not invoice.buyer:
        invoice.buyer = buyer_details(invoice.customer)
        return True
    return False


def _create(
    invoice: Invoice,
    amount: Decimal,
    gateway: str,
    reference: str,
    actor: Any,
    data: dict[str, Any] | None,
) -> Payment:
    try:
        with transaction.atomic():
            return Payment.objects.create(
                customer_id=invoice.customer_id,
                invoice=invoice,
                gateway=gateway,
                reference=reference,
                amount=amount,
                currency=invoice.currency,
                recorded_by=actor if getattr(actor, "pk", None) else None,
                data=data or {},
            )
    except IntegrityError:
        # The same reference for another invoice: a gateway's id is one payment, once.
        raise BillingRefused(f"The {gateway} payment {reference!r} is recorded already.") from None


def invoice_settle_if_free(*, invoice: Invoice, actor: Any) -> Invoice:
    """An invoice that totals zero (a 100 % coupon) is paid as it is: number, services."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status == InvoiceStatus.UNPAID and locked.total == 0:
            _settle(locked, actor)
            locked.save()
    return locked


def _settle(invoice: Invoice, actor: Any) -> None:
    """Paid in full: the parties copied, services ordered, then the final number and the rows
    that name it (added funds, the audit): the number's counter row stays locked until the
    commit, so as little as possible happens after taking it."""
    now = timezone.now()
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = now
    invoice.buyer = invoice.buyer or buyer_details(invoice.customer)
    invoice.seller = seller_details()
    lines = list(invoice.lines.select_related("product"))
    for line in lines:
        if line.product_id is not None:
            _order_services(invoice, line, actor)
    renewals = Renewal.objects.filter(invoice=invoice).select_related(
        "subscription__service", "subscription__suspended_for"
    )
    ended = [renewal for renewal in renewals if not _renewal_settle(renewal)]
    plan_changes_settle(invoice, actor)
    invoice.number = next_number(InvoiceKind.INVOICE, now)
    credits = [
        (line.amount, f"Added funds ({invoice.number})") for line in lines if line.adds_credit
    ] + [
        (invoice.total, f"Renewal of service #{renewal.subscription.service_id} paid after it "
         f"ended ({invoice.number})")
        for renewal in ended
    ]  # fmt: skip
    CreditEntry.objects.bulk_create(
        CreditEntry(customer_id=invoice.customer_id, amount=amount, reason=reason, invoice=invoice)
        for amount, reason in credits
    )
    events.record(
        customer_id=invoice.customer_id, invoice=invoice, actor=actor, action="invoice_paid",
        number=invoice.number,
    )  # fmt: skip


def _renewal_settle(renewal: Renewal) -> bool:
    """A paid renewal moves the due date on by its period and, when dunning suspended the
    service for that period, queues the restore. False when the service has ended (or is
    being terminated) meanwhile: nothing is extended, and the caller credits what was paid."""
    subscription = renewal.subscription
    service = subscription.service
    if service.status in ENDED or service.pending_action == ServiceAction.TERMINATE:
        return False
    Subscription.objects.filter(pk=subscription.pk, next_due_date=renewal.period_start).update(
        next_due_date=renewal.period_end
    )
    suspended_for = subscription.suspended_for
    if suspended_for is not None and suspended_for.period_start == renewal.period_start:
        enqueue_on_commit(RESTORE_TASK, subscription.pk)
    return True


def _order_services(invoice: Invoice, line: InvoiceLine, actor: Any) -> None:
    """``line.quantity`` services of the line's product, each keyed by the line and its index
    (so ordering again finds them), each with its billing record."""
    paid_on = timezone.localdate(invoice.paid_at)
    for index in range(1, line.quantity + 1):
        service = service_create(
            customer=invoice.customer,
            product=line.product,
            actor=actor,
            reason=f"invoice {invoice} paid",
            idempotency_key=f"invoice-line:{line.pk}:{index}",
        )
        if line.cycle:
            Subscription.objects.get_or_create(
                service=service,
                defaults={
                    "customer_id": invoice.customer_id,
                    "cycle": line.cycle,
                    "recurring_price": line.recurring_price
                    if line.recurring_price is not None
                    else line.unit_price,
                    "anchor_day": paid_on.day,
                    "next_due_date": add_cycle(paid_on, line.cycle),
                    "ordered_on": line,
                },
            )

"""Carrying out a change of plan (``plan_changes.py`` starts it): when nothing is due, at once;
else when its invoice is paid (``payments._settle``), or by the daily run when the service was
busy with another action then.

Applying, under the subscription's row lock: provisioning's ``service_change_package`` (the new
product's bandwidth goes to the panel, by the worker, after commit), the subscription's recurring
price and renewal description, the unpaid renewal invoices cancelled (the daily renewal run
issues them again at the new price) and an audit row. A paid change that can no longer be made
(the service ended, or its paid period moved since it was priced) is cancelled and its invoice's
total goes to the customer's credit balance.

Kept apart from ``plan_changes.py`` so payments can import it (that one uses credit, which
imports payments).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from portal.billing import events
from portal.billing.models import (
    CreditEntry,
    Invoice,
    InvoiceStatus,
    PlanChange,
    PlanChangeStatus,
    Renewal,
    Subscription,
)
from portal.billing.services.invoices import invoice_cancel
from portal.billing.services.locking import subscription_lock
from provisioning.exceptions import ProvisioningError
from provisioning.models import Service, ServiceAction, ServiceStatus
from provisioning.services import service_change_package

logger = logging.getLogger(__name__)

APPLIED, WAITING, VOID = "applied", "waiting", "void"


def plan_changes_settle(invoice: Invoice, actor: Any) -> None:
    """``invoice`` is paid in full (in ``_settle``'s transaction): apply its plan change."""
    for change in PlanChange.objects.filter(invoice=invoice, status=PlanChangeStatus.PENDING):
        change.invoice = invoice  # paid here, not saved yet
        plan_change_apply(change, actor=actor)


def plan_change_apply(change: PlanChange, *, actor: Any) -> str:
    """Apply a pending change (see the module docstring): ``applied``; ``waiting`` while another
    action runs on the service (the daily run tries again); ``void`` when it cannot be made any
    more (cancelled, what was paid credited)."""
    subscription = subscription_lock(change.subscription_id)
    service = Service.objects.get(pk=subscription.service_id)
    if (reason := _void_reason(change, subscription, service)) is not None:
        _void(change, subscription, reason)
        return VOID
    try:
        with transaction.atomic():
            service_change_package(
                service=service, product=change.to_product, actor=actor,
                reason=f"Plan change #{change.pk}",
            )  # fmt: skip
    except ProvisioningError as exc:
        logger.info("Plan change %s waits: %s", change.pk, exc.message)
        return WAITING
    subscription.recurring_price = change.to_price
    subscription.description = change.description
    subscription.save(update_fields=["recurring_price", "description"])
    cancelled = _renewals_reprice(subscription, change)
    change.status = PlanChangeStatus.APPLIED
    change.applied_at = timezone.now()
    change.save(update_fields=["status", "applied_at"])
    events.record(
        customer_id=subscription.customer_id, invoice=change.invoice, actor=actor,
        action="plan_changed", service=subscription.service_id,
        from_product=change.from_product_id, to_product=change.to_product_id,
        recurring_price=change.to_price, renewals_cancelled=", ".join(cancelled) or "none",
    )  # fmt: skip
    return APPLIED


def _void_reason(change: PlanChange, subscription: Subscription, service: Service) -> str | None:
    if service.status == ServiceStatus.TERMINATED or (
        service.pending_action == ServiceAction.TERMINATE
    ):
        return "the service has ended"
    if subscription.next_due_date != change.period_end:
        return "its paid period changed since it was priced"
    return None


def _void(change: PlanChange, subscription: Subscription, reason: str) -> None:
    change.status = PlanChangeStatus.CANCELLED
    change.save(update_fields=["status"])
    invoice = change.invoice
    paid = invoice if invoice is not None and invoice.status == InvoiceStatus.PAID else None
    if paid is not None:
        CreditEntry.objects.create(
            customer_id=subscription.customer_id,
            amount=paid.total,
            reason=f"Plan change #{change.pk} not made ({reason}): its payment credited",
            invoice=paid,
        )
    events.record(
        customer_id=subscription.customer_id, invoice=change.invoice,
        action="plan_change_cancelled", service=subscription.service_id, reason=reason,
        credited=paid.total if paid else 0,
    )  # fmt: skip


def _renewals_reprice(subscription: Subscription, change: PlanChange) -> list[str]:
    """Cancel the subscription's unpaid renewal invoices (what was paid on them credited): the
    next renewal run issues them again at the new price, under the new name. Not the one dunning
    suspended the service for: paying that one restores the service."""
    unpaid = (
        Renewal.objects.filter(
            subscription=subscription, superseded=False, invoice__status=InvoiceStatus.UNPAID
        )
        .exclude(pk=subscription.suspended_for_id)
        .select_related("invoice")
    )
    reason = f"The plan changed (plan change #{change.pk}); issued again at the new price"
    return [
        str(invoice_cancel(invoice=renewal.invoice, actor=None, reason=reason, credit_paid=True))
        for renewal in unpaid
    ]

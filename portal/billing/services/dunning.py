"""Dunning: what happens to an invoice left unpaid after its due date.

- **Reminders**: ``BILLING_OVERDUE_REMINDER_DAYS`` after the due date (1, 3 and 7 days by
  default), once per step — the email's once-key is unique in the database, so the daily task
  run twice (or a day late, when the latest step passed is sent) sends each reminder once.
- **Suspension**: a service whose renewal is ``BILLING_SUSPEND_AFTER_DAYS`` overdue is suspended
  through provisioning's lifecycle API. The step holds the renewal invoice's row lock while it
  re-checks that it is unpaid and asks for the suspension, so a payment either lands first (and
  nothing is suspended) or waits and then restores the service.
- **Restoring**: paying what is overdue unsuspends a service that dunning suspended (never one
  an admin suspended), once any suspension still in flight has finished.
- **Termination**: ``BILLING_TERMINATE_AFTER_DAYS`` after the due date the service is terminated
  (its client deleted on the panel) and the unpaid renewal invoice cancelled.
- **Exemption**: an admin may exempt a service until a date (audited); until then dunning
  neither suspends nor terminates it.
- **Unpaid orders**: an invoice that orders services and that nothing was paid on is cancelled
  ``BILLING_CANCEL_UNPAID_ORDER_AFTER_DAYS`` after its due date (a coupon it used is free again).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.billing import events
from portal.billing.emails import invoice_overdue_send
from portal.billing.models import Invoice, InvoiceKind, InvoiceStatus, Renewal, Subscription
from portal.billing.services.invoices import invoice_cancel
from portal.core import clock
from provisioning.exceptions import ProvisioningError
from provisioning.models import ServiceStatus
from provisioning.services import service_suspend, service_terminate, service_unsuspend

logger = logging.getLogger(__name__)


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


def _overdue_renewals(today: date, days: int):
    """Renewals whose invoice is unpaid and ``days`` or more past its due date."""
    return Renewal.objects.filter(
        invoice__status=InvoiceStatus.UNPAID,
        invoice__due_at__date__lte=today - timedelta(days=days),
    )


def _not_exempt(renewals, today: date):
    return renewals.exclude(subscription__no_suspension_until__gte=today)


def suspension_exempt(
    *, subscription: Subscription, until: date | None, actor: Any, reason: str
) -> Subscription:
    """Exempt the subscription's service from dunning's suspension and termination until
    ``until`` (None lifts the exemption); audited with ``actor`` and ``reason``."""
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        locked.no_suspension_until = until
        locked.save(update_fields=["no_suspension_until"])
        events.record(
            customer_id=locked.customer_id, actor=actor, action="suspension_exempted",
            service=locked.service_id, until=until or "lifted", reason=reason,
        )  # fmt: skip
    return locked


def overdue_services_suspend(*, today: date | None = None) -> int:
    """Suspend each active service whose renewal is ``BILLING_SUSPEND_AFTER_DAYS`` overdue;
    returns how many were asked to suspend now."""
    today = today or clock.today()
    due = _overdue_renewals(today, settings.BILLING_SUSPEND_AFTER_DAYS).filter(
        subscription__service__status=ServiceStatus.ACTIVE,
        subscription__suspended_for_nonpayment=False,
    )
    due = _not_exempt(due, today)
    return sum(_suspend(renewal_id) for renewal_id in due.values_list("pk", flat=True))


def _suspend(renewal_id: int) -> bool:
    with transaction.atomic():
        renewal = Renewal.objects.select_related("subscription__service").get(pk=renewal_id)
        invoice = Invoice.objects.select_for_update().get(pk=renewal.invoice_id)
        if invoice.status != InvoiceStatus.UNPAID:
            return False  # paid while this run was on its way: the payment wins
        subscription = Subscription.objects.select_for_update().get(pk=renewal.subscription_id)
        if subscription.suspended_for_nonpayment:
            return False
        reason = f"Invoice {invoice} unpaid since {timezone.localdate(invoice.due_at)}"
        try:
            service_suspend(service=renewal.subscription.service, actor=None, reason=reason)
        except ProvisioningError as exc:  # another action in flight: the next run asks again
            logger.info("Dunning: service %s not suspended now: %s", subscription.service_id, exc)
            return False
        subscription.suspended_for_nonpayment = True
        subscription.save(update_fields=["suspended_for_nonpayment"])
        events.record(
            customer_id=subscription.customer_id, invoice=invoice, action="service_suspended",
            service=subscription.service_id, reason=reason,
        )  # fmt: skip
    return True


def overdue_services_terminate(*, today: date | None = None) -> int:
    """Terminate each service whose renewal is ``BILLING_TERMINATE_AFTER_DAYS`` overdue and
    cancel that invoice; returns how many were asked to terminate now."""
    today = today or clock.today()
    due = _overdue_renewals(today, settings.BILLING_TERMINATE_AFTER_DAYS).filter(
        subscription__service__status__in=(ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)
    )
    due = _not_exempt(due, today)
    return sum(_terminate(renewal_id) for renewal_id in due.values_list("pk", flat=True))


def _terminate(renewal_id: int) -> bool:
    with transaction.atomic():
        renewal = Renewal.objects.select_related("subscription__service").get(pk=renewal_id)
        invoice = Invoice.objects.select_for_update().get(pk=renewal.invoice_id)
        if invoice.status != InvoiceStatus.UNPAID:
            return False
        reason = f"Invoice {invoice} unpaid since {timezone.localdate(invoice.due_at)}"
        try:
            service_terminate(service=renewal.subscription.service, actor=None, reason=reason)
        except ProvisioningError as exc:
            logger.info(
                "Dunning: service %s not terminated now: %s", renewal.subscription.service_id, exc
            )
            return False
        events.record(
            customer_id=invoice.customer_id, invoice=invoice, action="service_terminated",
            service=renewal.subscription.service_id, reason=reason,
        )  # fmt: skip
        if invoice.amount_paid == 0:
            invoice_cancel(invoice=invoice, actor=None, reason=f"Service terminated: {reason}")
    return True


def paid_service_restore(*, subscription_id: int, today: date | None = None) -> str:
    """Unsuspend a service that dunning suspended once nothing of it is overdue any more.

    Returns ``"restored"``, ``"wait"`` (a suspension or another action is still in flight: ask
    again later), or ``"nothing"`` (not suspended for non-payment, or still overdue)."""
    today = today or clock.today()
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("service")
            .get(pk=subscription_id)
        )
        if not subscription.suspended_for_nonpayment:
            return "nothing"
        overdue = _overdue_renewals(today, settings.BILLING_SUSPEND_AFTER_DAYS)
        if overdue.filter(subscription=subscription).exists():
            return "nothing"
        service = subscription.service
        if service.action_in_flight:
            return "wait"
        if service.status in (ServiceStatus.SUSPENDED, ServiceStatus.ACTIVE):
            service_unsuspend(service=service, actor=None, reason="The overdue invoice was paid")
        subscription.suspended_for_nonpayment = False
        subscription.save(update_fields=["suspended_for_nonpayment"])
        events.record(
            customer_id=subscription.customer_id, action="service_restored",
            service=subscription.service_id,
        )  # fmt: skip
    return "restored"


def paid_services_restore(*, today: date | None = None) -> int:
    """The daily safety net of the restore each payment queues: every service dunning
    suspended whose overdue invoices are paid now."""
    flagged = Subscription.objects.filter(suspended_for_nonpayment=True)
    results = [
        paid_service_restore(subscription_id=pk, today=today)
        for pk in flagged.values_list("pk", flat=True)
    ]
    return results.count("restored")


def unpaid_orders_cancel(*, today: date | None = None) -> int:
    """Cancel each invoice ordering services that nothing was paid on,
    ``BILLING_CANCEL_UNPAID_ORDER_AFTER_DAYS`` after its due date; returns how many."""
    today = today or clock.today()
    cutoff = today - timedelta(days=settings.BILLING_CANCEL_UNPAID_ORDER_AFTER_DAYS)
    stale = Invoice.objects.filter(
        kind=InvoiceKind.INVOICE,
        status=InvoiceStatus.UNPAID,
        amount_paid=0,
        due_at__date__lte=cutoff,
        lines__product__isnull=False,
    ).distinct()
    cancelled = 0
    for invoice in stale:
        invoice_cancel(invoice=invoice, actor=None, reason="Order not paid")
        cancelled += 1
    return cancelled

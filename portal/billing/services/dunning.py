"""Dunning: what happens to an invoice left unpaid after its due date.

- **Reminders**: ``BILLING_OVERDUE_REMINDER_DAYS`` after the due date (1, 3 and 7 days by
  default), once per step — the email's once-key is unique in the database, so the daily task
  run twice (or a day late, when the latest step passed is sent) sends each reminder once.
- **Suspension**: a service whose renewal is ``BILLING_SUSPEND_AFTER_DAYS`` overdue is suspended
  through provisioning's lifecycle API. The step holds the renewal invoice's row lock while it
  re-checks that it is unpaid and asks for the suspension, so a payment either lands first (and
  nothing is suspended) or waits and then restores the service.
- **Restoring**: paying the renewal that dunning suspended a service for unsuspends it, once
  the suspension has reached the panel; a service an admin suspended (or that dunning did not
  suspend) is left as it is.
- **Termination**: ``BILLING_TERMINATE_AFTER_DAYS`` after the due date the service is terminated
  (its client deleted on the panel) and the renewal invoice cancelled, what was paid on it
  credited. Unpaid renewals of services that ended otherwise are cancelled too.
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
from django.db.models import F, Q
from django.utils import timezone

from portal.billing import events
from portal.billing.emails import (
    SERVICE_SUSPENDED,
    SERVICE_TERMINATED,
    dunning_notice_send,
    invoice_overdue_send,
)
from portal.billing.models import Invoice, InvoiceKind, InvoiceStatus, Renewal, Subscription
from portal.billing.services.invoices import BillingRefused, invoice_cancel
from portal.core import clock
from provisioning.exceptions import ProvisioningError
from provisioning.models import ServiceAction, ServiceStatus
from provisioning.services import service_suspend, service_terminate, service_unsuspend

logger = logging.getLogger(__name__)


#: Reminders stop being tried this many days after the last step (runs missed for longer than
#: that send no late reminder): an invoice long overdue is not looked at every day for ever.
REMINDER_CATCH_UP_DAYS = 7


def overdue_reminders_send(*, today: date | None = None) -> int:
    """Remind each unpaid invoice whose due date has passed of the latest reminder step it
    has reached; returns how many reminders went out now."""
    today = today or clock.today()
    steps = settings.BILLING_OVERDUE_REMINDER_DAYS
    if not steps:
        return 0
    catch_up = timedelta(days=steps[-1] + REMINDER_CATCH_UP_DAYS)
    overdue = (
        Invoice.objects.filter(
            kind=InvoiceKind.INVOICE,
            status=InvoiceStatus.UNPAID,
            due_at__date__lte=today,
            due_at__date__gte=today - catch_up,
        )
        .exclude(lines__adds_credit=True)  # adding funds is the customer's choice, not a debt
        .select_related("customer__user")
    )
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
        superseded=False,
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
    """Suspend each active service (nothing else asked of it) whose renewal is
    ``BILLING_SUSPEND_AFTER_DAYS`` overdue; returns how many were asked to suspend now."""
    today = today or clock.today()
    due = _overdue_renewals(today, settings.BILLING_SUSPEND_AFTER_DAYS).filter(
        subscription__service__status=ServiceStatus.ACTIVE,
        subscription__service__pending_action="",
    )
    due = _not_exempt(due, today)
    return sum(_suspend(renewal_id, today) for renewal_id in due.values_list("pk", flat=True))


def _suspend(renewal_id: int, today: date) -> bool:
    """Under the invoice's lock (a payment waits, or has won) and the service's state checked
    again: only an active service with nothing else pending is suspended, so the suspension
    this records as dunning's is dunning's own."""
    with transaction.atomic():
        renewal = Renewal.objects.select_related("subscription__ordered_on").get(pk=renewal_id)
        invoice = Invoice.objects.select_for_update().get(pk=renewal.invoice_id)
        if invoice.status != InvoiceStatus.UNPAID:
            return False  # paid while this run was on its way: the payment wins
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("service")
            .get(pk=renewal.subscription_id)
        )
        service = subscription.service
        exempt = subscription.no_suspension_until and subscription.no_suspension_until >= today
        if exempt or service.status != ServiceStatus.ACTIVE or service.pending_action:
            return False
        reason = f"Invoice {invoice} unpaid since {timezone.localdate(invoice.due_at)}"
        try:
            service_suspend(service=service, actor=None, reason=reason)
        except ProvisioningError as exc:  # another action in flight: the next run asks again
            logger.info("Dunning: service %s not suspended now: %s", service.pk, exc)
            return False
        subscription.suspended_for = renewal
        subscription.save(update_fields=["suspended_for"])
        renewal.invoice = invoice
        terminates_on = timezone.localdate(invoice.due_at) + timedelta(
            days=settings.BILLING_TERMINATE_AFTER_DAYS
        )
        dunning_notice_send(kind=SERVICE_SUSPENDED, renewal=renewal, terminates_on=terminates_on)
        events.record(
            customer_id=subscription.customer_id, invoice=invoice, action="service_suspended",
            service=service.pk, reason=reason,
        )  # fmt: skip
    return True


def overdue_services_terminate(*, today: date | None = None) -> int:
    """Terminate each service whose renewal is ``BILLING_TERMINATE_AFTER_DAYS`` overdue and
    cancel that invoice (what was paid on it goes to credit); returns how many now."""
    today = today or clock.today()
    due = _overdue_renewals(today, settings.BILLING_TERMINATE_AFTER_DAYS).filter(
        subscription__service__status__in=(ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)
    )
    due = _not_exempt(due, today)
    return sum(_terminate(renewal_id, today) for renewal_id in due.values_list("pk", flat=True))


def _terminate(renewal_id: int, today: date) -> bool:
    """Under the invoice's and the subscription's locks, as ``_suspend``: a payment or an
    admin's exemption that landed since the query wins."""
    with transaction.atomic():
        renewal = Renewal.objects.select_related("subscription__ordered_on").get(pk=renewal_id)
        invoice = Invoice.objects.select_for_update().get(pk=renewal.invoice_id)
        if invoice.status != InvoiceStatus.UNPAID:
            return False
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("service")
            .get(pk=renewal.subscription_id)
        )
        if subscription.no_suspension_until and subscription.no_suspension_until >= today:
            return False
        service = subscription.service
        reason = f"Invoice {invoice} unpaid since {timezone.localdate(invoice.due_at)}"
        try:
            service_terminate(service=service, actor=None, reason=reason)
        except ProvisioningError as exc:
            logger.info("Dunning: service %s not terminated now: %s", service.pk, exc)
            return False
        subscription.suspended_for = None  # never restored: it is ending
        subscription.save(update_fields=["suspended_for"])
        renewal.invoice = invoice_cancel(
            invoice=invoice, actor=None, reason=f"Service terminated: {reason}", credit_paid=True
        )
        dunning_notice_send(kind=SERVICE_TERMINATED, renewal=renewal)
        events.record(
            customer_id=invoice.customer_id, invoice=invoice, action="service_terminated",
            service=service.pk, reason=reason,
        )  # fmt: skip
    return True


def ended_services_renewals_cancel() -> int:
    """Cancel unpaid renewal invoices of services that ended otherwise (an admin terminated
    them): nobody pays for, or is reminded of, a service that is gone."""
    ended = Renewal.objects.filter(
        superseded=False,
        invoice__status=InvoiceStatus.UNPAID,
        subscription__service__status__in=(ServiceStatus.TERMINATED, ServiceStatus.FAILED),
    ).select_related("invoice")
    cancelled = 0
    for renewal in ended:
        try:
            invoice_cancel(
                invoice=renewal.invoice, actor=None, reason="The service has ended",
                credit_paid=True,
            )  # fmt: skip
        except BillingRefused:  # paid since the query: the payment went to credit (payments)
            continue
        cancelled += 1
    return cancelled


def paid_service_restore(*, subscription_id: int) -> str:
    """Unsuspend a service that dunning suspended, once the renewal it suspended it for is paid.

    Returns ``"restored"``, ``"wait"`` (dunning's suspension or another action is still in
    flight: ask again later), or ``"nothing"`` (not suspended by dunning, that renewal not paid,
    or the service ending)."""
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("service", "suspended_for__invoice")
            .get(pk=subscription_id)
        )
        renewal = subscription.suspended_for
        if renewal is None or not suspended_period_paid(subscription):
            return "nothing"
        service = subscription.service
        ending = (
            service.status == ServiceStatus.TERMINATED
            or service.pending_action == ServiceAction.TERMINATE
        )
        if not ending and service.action_in_flight:
            return "wait"
        if not ending:
            service_unsuspend(service=service, actor=None, reason="The overdue invoice was paid")
        subscription.suspended_for = None
        subscription.save(update_fields=["suspended_for"])
        if ending:
            return "nothing"
        events.record(
            customer_id=subscription.customer_id, invoice=renewal.invoice,
            action="service_restored", service=service.pk,
        )  # fmt: skip
    return "restored"


def suspended_period_paid(subscription: Subscription) -> bool:
    """Whether the period dunning suspended the service for is paid: by the renewal it was
    suspended for, or by the one that invoiced that period again after its invoice was
    cancelled — either moved the due date past the period's start."""
    renewal = subscription.suspended_for
    return renewal is not None and subscription.next_due_date > renewal.period_start


def paid_services_restore() -> int:
    """The daily safety net of the restore each payment queues: every service dunning
    suspended whose suspended period is paid now."""
    flagged = Subscription.objects.filter(
        suspended_for__isnull=False, next_due_date__gt=F("suspended_for__period_start")
    )
    results = [
        paid_service_restore(subscription_id=pk) for pk in flagged.values_list("pk", flat=True)
    ]
    return results.count("restored")


def unpaid_orders_cancel(*, today: date | None = None) -> int:
    """Cancel each invoice ordering services (or adding funds) that nothing was paid on,
    ``BILLING_CANCEL_UNPAID_ORDER_AFTER_DAYS`` after its due date; returns how many."""
    today = today or clock.today()
    cutoff = today - timedelta(days=settings.BILLING_CANCEL_UNPAID_ORDER_AFTER_DAYS)
    stale = (
        Invoice.objects.filter(
            kind=InvoiceKind.INVOICE,
            status=InvoiceStatus.UNPAID,
            amount_paid=0,
            due_at__date__lte=cutoff,
        )
        .filter(Q(lines__product__isnull=False) | Q(lines__adds_credit=True))
        .distinct()
    )
    cancelled = 0
    for invoice in stale:
        try:
            invoice_cancel(invoice=invoice, actor=None, reason="Order not paid")
        except BillingRefused:  # paid (in part) since the query: it stays
            continue
        cancelled += 1
    return cancelled

"""Renewals: each subscription's invoice for its next period, issued
``BILLING_RENEWAL_DAYS_BEFORE`` days before its due date by a daily task, due on that date.

Safe to repeat: a renewal is one row per (subscription, period), refused a second time by the
database, and issued under the subscription's row lock, so a second run — the same day, or at
the same moment — finds it and issues nothing. Services that are suspended are still renewed;
terminated or failed ones (or ones being terminated) are not; a period whose invoice was
cancelled is invoiced again, and one an approved cancellation ends the service by is not
invoiced at all. The customer's credit pays what it can at once; paying the
invoice moves the due date on by exactly one cycle (``payments._settle``). A subscription with
a pending change of plan is not renewed until the change is applied (paid) or expires at the end
of its period (``plan_changes_run``): renewed first, its period would move and void the change
being paid; renewed after, at the new price (issued late: due ``BILLING_RENEWAL_DAYS_BEFORE``
days later).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from portal.billing import events
from portal.billing.cycles import add_cycle
from portal.billing.emails import invoice_issued_send
from portal.billing.models import (
    CancellationRequest,
    CancellationStatus,
    PlanChange,
    PlanChangeStatus,
    Renewal,
    Subscription,
)
from portal.billing.services.credit import credit_apply
from portal.billing.services.invoices import LineSpec, invoice_create
from portal.core import clock
from provisioning.models import ServiceAction, ServiceStatus

RENEWED_STATUSES = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)


def renewals_issue(*, today: date | None = None) -> list[Renewal]:
    """Issue every renewal due by ``today`` (the clock's) + ``BILLING_RENEWAL_DAYS_BEFORE``
    that has not been issued yet; returns the ones this run issued."""
    today = today or clock.today()
    horizon = today + timedelta(days=settings.BILLING_RENEWAL_DAYS_BEFORE)
    issued_already = Renewal.objects.filter(
        subscription=OuterRef("pk"), period_start=OuterRef("next_due_date"), superseded=False
    )
    due = (
        Subscription.objects.filter(
            next_due_date__lte=horizon, service__status__in=RENEWED_STATUSES
        )
        .exclude(service__pending_action=ServiceAction.TERMINATE)
        .exclude(Exists(issued_already))
        .exclude(Exists(_cancelled_by(OuterRef("pk"), OuterRef("next_due_date"))))
        .exclude(Exists(_pending_change(OuterRef("pk"))))
    )
    issued = []
    for subscription_id in due.values_list("pk", flat=True):
        if (renewal := renewal_issue(subscription_id=subscription_id, today=today)) is not None:
            issued.append(renewal)
    return issued


def renewal_issue(*, subscription_id: int, today: date | None = None) -> Renewal | None:
    """The invoice for the subscription's next period, or None when that period's renewal
    exists already (another run issued it) or a change of plan is pending. Due on the period's
    first day — or, issued late (the task did not run, or a change of plan held it back),
    ``BILLING_RENEWAL_DAYS_BEFORE`` days after ``today``, so a customer always has that long to
    pay before dunning counts the days."""
    today = today or clock.today()
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("customer__user", "ordered_on")
            .get(pk=subscription_id)
        )
        start = subscription.next_due_date
        period = Renewal.objects.filter(subscription=subscription, period_start=start)
        if (
            period.filter(superseded=False).exists()
            or _cancelled_by(subscription, start).exists()
            or _pending_change(subscription).exists()
        ):
            return None
        reissue = period.count()  # the earlier ones' invoices were cancelled
        end = add_cycle(start, subscription.cycle, anchor_day=subscription.anchor_day)
        invoice = invoice_create(
            customer=subscription.customer,
            lines=[
                LineSpec(
                    description=_describe(subscription, start, end),
                    unit_price=subscription.recurring_price,
                )
            ],
            actor=None,
            source_key=f"renewal:{subscription.pk}:{start.isoformat()}:{reissue}",
            due_at=_start_of(
                max(start, today + timedelta(days=settings.BILLING_RENEWAL_DAYS_BEFORE))
            ),
        )
        renewal = Renewal.objects.create(
            subscription=subscription, period_start=start, period_end=end, invoice=invoice
        )
        events.record(
            customer_id=subscription.customer_id, invoice=invoice, action="renewal_issued",
            service=subscription.service_id, period_start=start, period_end=end,
        )  # fmt: skip
        invoice_issued_send(invoice=invoice)  # after the renewal row: the email names the period
    credit_apply(invoice=invoice, actor=None)
    return renewal


def _cancelled_by(subscription: object, period_start: object) -> QuerySet[CancellationRequest]:
    """The approved (or carried out) cancellation that ends the service by ``period_start``:
    that period is not renewed (``services/cancellations.py``)."""
    return CancellationRequest.objects.filter(
        subscription=subscription,
        status__in=(CancellationStatus.APPROVED, CancellationStatus.DONE),
        terminate_on__lte=period_start,
    )


def _pending_change(subscription: object) -> QuerySet[PlanChange]:
    return PlanChange.objects.filter(subscription=subscription, status=PlanChangeStatus.PENDING)


def _describe(subscription: Subscription, start: date, end: date) -> str:
    last_day = end - timedelta(days=1)
    return (
        f"{subscription.plan_description}, "
        f"service #{subscription.service_id}: "
        f"{_day(start)} to {_day(last_day)}"
    )


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))

"""Changing plan: a customer moves a subscription's service to another product for the rest of
its paid time (the store offers the plans and their prices, ``portal/store/plan_switch.py``).

- **The paid time** runs from today to the subscription's next due date. It lies in the period
  [next due date - one cycle, next due date) — the cycle taken back on the subscription's anchor
  day (``cycles.subtract_cycle``) — or, when the next period's renewal is paid already, in that
  one and the one before. Each period is prorated on its own with ``proration.prorate`` (whole
  days, each amount rounded half-up to the cent; a period paid ahead counts all its days), and
  the figures are summed; the credit never exceeds what was paid for them (``_paid_net``).
- **Due above zero**: one invoice (lines: the new plan for those days, less the credit for the
  old plan's) — the customer's credit pays what it can at once — and paying it applies the change
  (``plan_change_apply``). **Due zero or less**: applied at once; a credit goes to the
  customer's credit balance.
- **Refused** (nothing changes) for a service that is not active or is busy with another action,
  that is being cancelled, whose renewal invoice is unpaid (pay it first: then the next period
  is paid and counted too), whose paid time is over, or for the plan it is on already.
- **One pending change** per subscription (the database refuses a second): asked again for the
  same plan, the pending one is returned (a double submit; likewise the change just applied while
  the package is being changed); for another plan, the pending one's
  unpaid invoice is cancelled (what credit paid on it credited back; refused once a gateway's
  money is on it), which cancels it, and the new one is made. A change whose invoice
  is cancelled is cancelled (``invoices.invoice_cancel``); the daily run cancels one whose paid
  period ended unpaid and applies a paid one the service was too busy for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.billing import events
from portal.billing.cycles import subtract_cycle
from portal.billing.models import (
    OPEN_CANCELLATION,
    CancellationRequest,
    CreditEntry,
    Gateway,
    Invoice,
    InvoiceStatus,
    PlanChange,
    PlanChangeStatus,
    Renewal,
    Subscription,
)
from portal.billing.money import ZERO, format_money, money
from portal.billing.proration import Proration, prorate
from portal.billing.services.credit import credit_apply
from portal.billing.services.invoices import (
    BillingRefused,
    LineSpec,
    gross_for,
    invoice_cancel,
    invoice_create,
)
from portal.billing.services.locking import subscription_lock
from portal.billing.services.plan_change_apply import WAITING, plan_change_apply
from portal.core import clock
from provisioning.models import Product, Service, ServiceStatus

PENDING = PlanChangeStatus.PENDING


@dataclass(frozen=True)
class PlanQuote:
    """A change priced: the whole paid time's figures and each period's."""

    total: Proration
    periods: list[tuple[date, date, Proration]]

    @property
    def period_start(self) -> date:
        return self.periods[0][0]


def plan_change_quote(
    *, subscription: Subscription, recurring_price: Decimal, on: date | None = None
) -> PlanQuote:
    """The proration of moving ``subscription`` to ``recurring_price`` on ``on`` (today):
    BillingRefused when its paid time is over."""
    on = on or clock.today()
    if subscription.next_due_date <= on:
        raise BillingRefused(
            f"This service's paid time ended on {_day(subscription.next_due_date)}: its plan can "
            "be changed once it is renewed."
        )
    periods = []
    end = subscription.next_due_date
    while end > on:
        start = subtract_cycle(end, subscription.cycle, anchor_day=subscription.anchor_day)
        proration = prorate(
            old_price=subscription.recurring_price, new_price=money(recurring_price),
            period_start=start, period_end=end, on=max(on, start),
        )  # fmt: skip
        periods.append((start, end, proration))
        end = start
    periods.reverse()
    periods = _credit_capped(subscription, periods)
    total = Proration(
        days_left=sum(p.days_left for *_, p in periods),
        days_in_period=sum(p.days_in_period for *_, p in periods),
        credit=sum((p.credit for *_, p in periods), ZERO),
        charge=sum((p.charge for *_, p in periods), ZERO),
    )
    return PlanQuote(total=total, periods=periods)


def _credit_capped(
    subscription: Subscription, periods: list[tuple[date, date, Proration]]
) -> list[tuple[date, date, Proration]]:
    """The periods' credits, in order, never more in all than what was paid (net) for the paid
    time and not credited yet (``_paid_net``): a coupon or a discount lowers it."""
    left = max(_paid_net(subscription, periods), ZERO)
    capped = []
    for start, end, proration in periods:
        credit = min(proration.credit, left)
        left -= credit
        capped.append((start, end, replace(proration, credit=credit)))
    return capped


def _paid_net(subscription: Subscription, periods: list[tuple[date, date, Proration]]) -> Decimal:
    """Paid before tax for the periods: each one's paid renewal invoice's subtotal, or for one
    without (the first) the order line's share of its invoice's subtotal; plus the net of the
    changes of plan applied since the first period began (a paid upgrade's due, less a
    downgrade's credit)."""
    paid = ZERO
    for start, _end, _proration in periods:
        renewal = (
            Renewal.objects.filter(
                subscription=subscription,
                period_start=start,
                superseded=False,
                invoice__status=InvoiceStatus.PAID,
            )
            .select_related("invoice")
            .first()
        )
        paid += renewal.invoice.subtotal if renewal else _order_share(subscription)
    changes = PlanChange.objects.filter(
        subscription=subscription,
        status=PlanChangeStatus.APPLIED,
        period_start__gte=periods[0][0],
    )
    return paid + sum((change.due for change in changes), ZERO)


def _order_share(subscription: Subscription) -> Decimal:
    """What the order paid (net) for the line the subscription was ordered on."""
    line = subscription.ordered_on
    return money(min(line.unit_price, line.invoice.subtotal / line.quantity))


def plan_change_refusal(subscription: Subscription, service: Service) -> str | None:
    """Why the service cannot change plan now (None: it can), for the page and for
    ``plan_change_start``."""
    if service.status != ServiceStatus.ACTIVE:
        return "Only an active service can change plan."
    if service.pending_action:
        return (
            f"“{service.get_pending_action_display()}” is still in progress on this service; "
            "please try again in a few minutes."
        )
    if CancellationRequest.objects.filter(
        subscription=subscription, status__in=OPEN_CANCELLATION
    ).exists():
        return "This service is being cancelled: withdraw the cancellation to change its plan."
    if renewal := _unpaid_renewal(subscription):
        return (
            f"Please pay invoice {renewal.invoice} (the renewal from "
            f"{_day(renewal.period_start)}) first; then you can change plan."
        )
    if subscription.next_due_date <= clock.today():
        return (
            f"This service's paid time ended on {_day(subscription.next_due_date)}: its plan "
            "can be changed once it is renewed."
        )
    return None


def plan_change_pending(subscription: Subscription) -> PlanChange | None:
    return (
        PlanChange.objects.filter(subscription=subscription, status=PENDING)
        .select_related("invoice", "to_product")
        .first()
    )


def plan_change_start(
    *,
    subscription: Subscription,
    product: Product,
    recurring_price: Decimal,
    description: str,
    actor: Any,
) -> PlanChange:
    """Move ``subscription``'s service to ``product``, billed ``recurring_price`` each cycle
    from now on (renewals call it ``description``): see the module docstring. Returns the
    change: ``applied``, or ``pending`` with the invoice to pay."""
    recurring_price = money(recurring_price)
    if recurring_price < 0:
        raise BillingRefused("A price is never negative.")
    try:
        with transaction.atomic():
            change = _start(subscription.pk, product, recurring_price, description, actor)
    except IntegrityError:  # a twin made its change at the same moment
        change = plan_change_pending(subscription)
        if change is None or change.to_product_id != product.pk:
            raise BillingRefused(
                "Another change of plan was just made for this service; please look again."
            ) from None
        return change
    if change.status == PENDING and change.invoice is not None:
        credit_apply(invoice=change.invoice, actor=actor)
        change.refresh_from_db()
    return change


def _start(
    subscription_id: int, product: Product, price: Decimal, description: str, actor: Any
) -> PlanChange:
    pending = PlanChange.objects.filter(subscription_id=subscription_id, status=PENDING).first()
    if pending is not None and pending.invoice_id is not None:
        # The invoice first: a payment of it locks it, then the subscription.
        Invoice.objects.select_for_update().filter(pk=pending.invoice_id).first()
    subscription = subscription_lock(subscription_id)
    pending = plan_change_pending(subscription)
    if pending is not None and pending.to_product_id == product.pk:
        return pending
    service = Service.objects.select_related("product").get(pk=subscription.service_id)
    if service.pending_product_id == product.pk and (
        applied := PlanChange.objects.filter(
            subscription=subscription, status=PlanChangeStatus.APPLIED, to_product=product
        ).first()
    ):
        return applied  # asked again while the panel is being changed: that change
    if service.product_id == product.pk:
        raise BillingRefused(f"This service is on {service.product.name} already.")
    if (refusal := plan_change_refusal(subscription, service)) is not None:
        raise BillingRefused(refusal)
    if pending is not None:
        _replace(pending, actor)
    quote = plan_change_quote(subscription=subscription, recurring_price=price)
    change = PlanChange.objects.create(
        subscription=subscription,
        from_product_id=service.product_id,
        from_price=subscription.recurring_price,
        to_product=product,
        to_price=price,
        description=description,
        period_start=quote.period_start,
        period_end=subscription.next_due_date,
        days_left=quote.total.days_left,
        days_in_period=quote.total.days_in_period,
        credit=quote.total.credit,
        charge=quote.total.charge,
    )
    events.record(
        customer_id=subscription.customer_id, actor=actor, action="plan_change_requested",
        service=service.pk, from_product=service.product_id, to_product=product.pk,
        credit=change.credit, charge=change.charge, due=change.due,
    )  # fmt: skip
    if change.due > 0:
        change.invoice = _invoice(change, subscription, service, quote, actor)
        change.save(update_fields=["invoice"])
        return change
    if change.due < 0:
        _credit(change, subscription)
    if plan_change_apply(change, actor=actor) == WAITING:  # checked above: not expected
        raise BillingRefused("The service is busy; please try again in a few minutes.")
    return change


def _replace(pending: PlanChange, actor: Any) -> None:
    """Cancel the pending change's invoice (which cancels the change) to make way for another;
    what the customer's credit paid on it goes back to their credit. Refused once other money
    (a gateway's) is on it."""
    invoice = pending.invoice
    if (
        invoice is None
        or invoice.status != InvoiceStatus.UNPAID
        or invoice.payments.exclude(gateway=Gateway.CREDIT).exists()
    ):
        raise BillingRefused(
            f"Your change to {pending.to_product.name} is being paid (invoice {invoice}); please "
            "finish paying it first."
        )
    invoice_cancel(
        invoice=invoice, actor=actor, reason="Replaced by another change of plan", credit_paid=True
    )


def _invoice(
    change: PlanChange,
    subscription: Subscription,
    service: Service,
    quote: PlanQuote,
    actor: Any,
) -> Invoice:
    lines = []
    for _start, end, proration in quote.periods:
        days = f"{proration.days_left} of {proration.days_in_period} days"
        span = f"{_day(end - timedelta(days=proration.days_left))} to {_day(end - timedelta(1))}"
        lines.append(
            LineSpec(
                description=f"{change.description}, service #{service.pk}: {days}, {span}",
                unit_price=proration.charge,
            )
        )
        if proration.credit:
            lines.append(
                LineSpec(
                    description=f"Credit for {_name(subscription)} not used: {days}, {span}",
                    unit_price=-proration.credit,
                )
            )
    due_day = min(
        clock.today() + timedelta(days=settings.BILLING_INVOICE_DUE_DAYS),
        subscription.next_due_date - timedelta(days=1),
    )
    return invoice_create(
        customer=subscription.customer,
        lines=lines,
        actor=actor,
        source_key=f"plan-change:{change.pk}",
        due_at=timezone.make_aware(datetime.combine(due_day, time.max)),
        notify=True,
    )


def _credit(change: PlanChange, subscription: Subscription) -> None:
    """The net difference credited with the tax the customer pays now (``gross_for``), as an
    upgrade invoice would add it: a downgrade and back costs nothing."""
    amount = gross_for(subscription.customer, -change.due)
    taxed = f", {format_money(amount)} with tax" if amount != -change.due else ""
    CreditEntry.objects.create(
        customer_id=subscription.customer_id,
        amount=amount,
        reason=(
            f"Plan change of service #{subscription.service_id}: {format_money(change.credit)} "
            f"for the unused days, less {format_money(change.charge)} for the new plan{taxed}"
        ),
    )
    events.record(
        customer_id=subscription.customer_id, action="plan_change_credited",
        service=subscription.service_id, net=-change.due, amount=amount,
    )  # fmt: skip


def plan_changes_run(*, today: date | None = None) -> dict[str, int]:
    """Daily: apply the paid changes the service was busy for, and cancel (their invoices) the
    unpaid ones whose paid period has ended. Safe to repeat."""
    today = today or clock.today()
    applied = 0
    paid = PlanChange.objects.filter(status=PENDING, invoice__status=InvoiceStatus.PAID)
    for pk in paid.values_list("pk", flat=True):
        with transaction.atomic():
            change = PlanChange.objects.select_for_update().filter(pk=pk, status=PENDING).first()
            if change is not None:
                applied += plan_change_apply(change, actor=None) != WAITING
    expired = 0
    stale = PlanChange.objects.filter(
        status=PENDING, invoice__status=InvoiceStatus.UNPAID, period_end__lte=today
    ).select_related("invoice")
    for change in stale:
        try:
            invoice_cancel(
                invoice=change.invoice, actor=None, credit_paid=True,
                reason="The change of plan was not paid within its period",
            )  # fmt: skip
        except BillingRefused:  # paid since the query: the next run applies it
            continue
        expired += 1
    return {"applied": applied, "expired": expired}


def _unpaid_renewal(subscription: Subscription) -> Renewal | None:
    return (
        Renewal.objects.filter(
            subscription=subscription, superseded=False, invoice__status=InvoiceStatus.UNPAID
        )
        .select_related("invoice")
        .first()
    )


def _name(subscription: Subscription) -> str:
    """What the subscription's invoices call its plan now."""
    return subscription.description or subscription.ordered_on.description


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"

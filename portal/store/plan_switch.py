"""Changing plan from the shop's side: the other plans on sale with their price for the
service's billing cycle and the proration of moving to each (billing prices it and carries it
out: ``portal/billing/services/plan_changes.py``). A sold-out plan is shown but cannot be
chosen; choosing one asks its panels afresh, as checkout does."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch

from portal.billing.models import PlanChange, Subscription
from portal.billing.money import ZERO
from portal.billing.services.invoices import BillingRefused
from portal.billing.services.plan_changes import PlanQuote, plan_change_quote, plan_change_start
from portal.core import clock
from portal.store.availability import plan_available, plan_room
from portal.store.models import Plan, PlanPrice


@dataclass(frozen=True)
class PlanOption:
    plan: Plan
    price: PlanPrice
    available: bool
    quote: PlanQuote | None  # None when the service cannot change plan now

    @property
    def credited(self) -> Decimal:
        """What goes to the credit balance (a downgrade's credit larger than its charge)."""
        return max(-self.quote.total.due, ZERO) if self.quote else ZERO

    @property
    def download_mbps(self) -> int:
        return self.plan.product.typed_settings.download_mbps

    @property
    def upload_mbps(self) -> int:
        return self.plan.product.typed_settings.upload_mbps


def plan_options(subscription: Subscription, *, quoted: bool) -> list[PlanOption]:
    """The plans on sale for the subscription's cycle other than its service's own, each with
    its proration today (``quoted``: the service may change plan now)."""
    today = clock.today()
    plans = (
        Plan.objects.filter(on_sale=True, prices__cycle=subscription.cycle)
        .exclude(product_id=subscription.service.product_id)
        .select_related("product")
        .prefetch_related(
            Prefetch("prices", queryset=PlanPrice.objects.filter(cycle=subscription.cycle))
        )
        .distinct()
    )
    options = []
    for plan in plans:
        price = plan.prices.all()[0]
        quote = None
        if quoted:
            quote = plan_change_quote(
                subscription=subscription, recurring_price=price.price, on=today
            )
        options.append(PlanOption(plan, price, plan_available(plan), quote))
    return options


def plan_switch(*, subscription: Subscription, plan_id: int, actor: Any) -> PlanChange:
    """Move the subscription's service to the plan ``plan_id`` at its price for the
    subscription's cycle: BillingRefused (nothing changes) when it is not on sale, has no such
    price or is sold out now."""
    plan = Plan.objects.filter(pk=plan_id, on_sale=True).select_related("product").first()
    if plan is None:
        raise BillingRefused("This plan is not on sale.")
    price = plan.prices.filter(cycle=subscription.cycle).first()
    if price is None:
        raise BillingRefused(
            f"{plan.name} is not sold {subscription.get_cycle_display().lower()}; please choose "
            "another plan."
        )
    if plan_room(plan, count=1) < 1:
        raise BillingRefused(
            f"{plan.name} is sold out just now, so nothing was changed. Please try again later or "
            "choose another plan."
        )
    return plan_change_start(
        subscription=subscription,
        product=plan.product,
        recurring_price=price.price,
        description=f"{plan.name} ({price.get_cycle_display().lower()})",
        actor=actor,
    )

"""Staff's changes to the catalogue outside the admin (the staff API): plans and their prices.

Each change is one transaction with its row in the admin's history (who did it), as a change
made in the admin has.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from portal.billing.money import ZERO
from portal.core.audit import ADDITION, CHANGE, DELETION, admin_log
from portal.core.exceptions import DomainError
from portal.store.models import Plan, PlanPrice
from provisioning.models import Product

#: What a plan's own fields are, by name (its prices are set through ``prices``).
PLAN_FIELDS = ("product", "slug", "description", "on_sale", "position")


class PlanRefused(DomainError):
    """A change of the catalogue that would break it (nothing was changed)."""

    code = "plan_refused"


@dataclass(frozen=True)
class PriceSpec:
    cycle: str
    price: Decimal
    setup_fee: Decimal = ZERO


def plan_create(
    *, actor: Any, product: Product, slug: str, prices: list[PriceSpec], **fields: Any
) -> Plan:
    """Put ``product`` on sale under ``slug`` with one price per cycle."""
    _check_fields(fields)
    try:
        with transaction.atomic():
            plan = Plan.objects.create(product=product, slug=slug, **fields)
            _prices_set(plan, prices)
            admin_log(actor=actor, obj=plan, flag=ADDITION, message=[{"added": {}}])
    except IntegrityError:
        raise PlanRefused("Another plan has this product or this slug already.") from None
    return plan


def plan_update(
    *, plan: Plan, actor: Any, prices: list[PriceSpec] | None = None, **fields: Any
) -> Plan:
    """Change the plan's ``fields``; ``prices``, when given, become its prices (a cycle left out
    is no longer sold)."""
    _check_fields(fields)
    changed = [name for name, value in fields.items() if getattr(plan, name) != value]
    try:
        with transaction.atomic():
            for name in changed:
                setattr(plan, name, fields[name])
            if changed:
                plan.save(update_fields=changed)
            if prices is not None and _prices_set(plan, prices):
                changed.append("prices")
            if changed:
                admin_log(
                    actor=actor, obj=plan, flag=CHANGE, message=[{"changed": {"fields": changed}}]
                )
    except IntegrityError:
        raise PlanRefused("Another plan has this product or this slug already.") from None
    return plan


def plan_delete(*, plan: Plan, actor: Any) -> None:
    """Delete a plan nobody ordered; one that was ordered stays (take it off sale instead)."""
    try:
        with transaction.atomic():
            admin_log(actor=actor, obj=plan, flag=DELETION, message="")
            plan.delete()
    except ProtectedError:
        raise PlanRefused(
            "This plan was ordered, so it stays for the orders' records; take it off sale instead."
        ) from None


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise ValueError(f"Not fields of a plan: {sorted(unknown)}")


def _prices_set(plan: Plan, prices: list[PriceSpec]) -> bool:
    """Make the plan's prices exactly ``prices``; whether anything changed."""
    wanted = {spec.cycle: spec for spec in prices}
    if len(wanted) != len(prices):
        raise PlanRefused("Give each billing cycle one price.")
    current = {price.cycle: price for price in plan.prices.all()}
    gone = [price.pk for cycle, price in current.items() if cycle not in wanted]
    changed = bool(gone)
    PlanPrice.objects.filter(pk__in=gone).delete()
    for cycle, spec in wanted.items():
        price = current.get(cycle)
        if price is None:
            PlanPrice.objects.create(
                plan=plan, cycle=cycle, price=spec.price, setup_fee=spec.setup_fee
            )
            changed = True
        elif (price.price, price.setup_fee) != (spec.price, spec.setup_fee):
            price.price, price.setup_fee = spec.price, spec.setup_fee
            price.save(update_fields=["price", "setup_fee"])
            changed = True
    return changed

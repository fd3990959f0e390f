"""The cart lives in the session: a list of (plan, cycle, quantity); prices are read at
checkout, never taken from the session."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.sessions.backends.base import SessionBase

from portal.store.models import Plan, PlanPrice

SESSION_KEY = "store:cart"
MAX_QUANTITY = 10


@dataclass(frozen=True)
class CartItem:
    plan: Plan
    price: PlanPrice
    quantity: int

    @property
    def first_payment(self) -> Decimal:
        return (self.price.price + self.price.setup_fee) * self.quantity


def cart_add(session: SessionBase, *, plan_id: int, cycle: str, quantity: int) -> None:
    items = [item for item in session.get(SESSION_KEY, []) if item[:2] != [plan_id, cycle]]
    items.append([plan_id, cycle, max(1, min(quantity, MAX_QUANTITY))])
    session[SESSION_KEY] = items


def cart_remove(session: SessionBase, *, plan_id: int, cycle: str) -> None:
    session[SESSION_KEY] = [i for i in session.get(SESSION_KEY, []) if i[:2] != [plan_id, cycle]]


def cart_clear(session: SessionBase) -> None:
    session.pop(SESSION_KEY, None)


def cart_items(session: SessionBase) -> list[CartItem]:
    """The cart's items that can still be bought (a plan taken off sale, or a price removed,
    drops out)."""
    wanted = session.get(SESSION_KEY, [])
    prices = {
        (price.plan_id, price.cycle): price
        for price in PlanPrice.objects.filter(
            plan_id__in=[item[0] for item in wanted], plan__on_sale=True
        ).select_related("plan__product")
    }
    return [
        CartItem(prices[(plan_id, cycle)].plan, prices[(plan_id, cycle)], quantity)
        for plan_id, cycle, quantity in wanted
        if (plan_id, cycle) in prices
    ]

"""Proration of a change of plan in the middle of a paid period: a pure function, property-tested.

The rule (documented in docs/billing.md): the unused part of the period is counted in whole
days — from the day of the change (included) to the period's end (excluded) — over the
period's days. The customer is credited that fraction of the old plan's price and charged that
fraction of the new plan's price, each rounded half-up to the currency's minor unit on its own;
what is due is the charge minus the credit (below zero: the difference goes to credit). Days,
not seconds: a change on the same day costs the same whenever it is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.billing.money import money


@dataclass(frozen=True)
class Proration:
    days_left: int
    days_in_period: int
    credit: Decimal  # for the unused days of the old plan
    charge: Decimal  # for the same days of the new plan

    @property
    def due(self) -> Decimal:
        """What the customer pays for the change (negative: what they are credited)."""
        return self.charge - self.credit


def prorate(
    *, old_price: Decimal, new_price: Decimal, period_start: date, period_end: date, on: date
) -> Proration:
    """The proration of moving from ``old_price`` to ``new_price`` (each per period) on day
    ``on`` of the period [``period_start``, ``period_end``)."""
    if not period_start <= on <= period_end or period_start >= period_end:
        raise ValueError(f"{on} is not in the period {period_start} to {period_end}.")
    if old_price < 0 or new_price < 0:
        raise ValueError("Prices are never negative.")
    days_in_period = (period_end - period_start).days
    days_left = (period_end - on).days
    return Proration(
        days_left=days_left,
        days_in_period=days_in_period,
        credit=money(old_price * days_left / days_in_period),
        charge=money(new_price * days_left / days_in_period),
    )

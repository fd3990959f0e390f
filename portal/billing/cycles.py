"""Billing cycles and due dates.

A cycle is a whole number of months. Adding it anchors on the service's original day of the
month: 31 Jan + 1 month = 28/29 Feb, and the next one is back on 31 Mar; a day that the target
month lacks becomes its last day.
"""

from __future__ import annotations

import calendar
from datetime import date

from django.db import models


class BillingCycle(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    SEMIANNUAL = "semiannual", "Semi-annually"
    ANNUAL = "annual", "Annually"


MONTHS: dict[str, int] = {
    BillingCycle.MONTHLY: 1,
    BillingCycle.QUARTERLY: 3,
    BillingCycle.SEMIANNUAL: 6,
    BillingCycle.ANNUAL: 12,
}


def add_cycle(start: date, cycle: str, *, anchor_day: int | None = None) -> date:
    """``start`` plus one ``cycle``, on ``anchor_day`` (default: ``start``'s day) or the target
    month's last day when it is shorter."""
    months = MONTHS[cycle]
    year, month_index = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month_index + 1
    day = min(anchor_day or start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def subtract_cycle(end: date, cycle: str, *, anchor_day: int) -> date:
    """The due date one ``cycle`` before ``end``, on ``anchor_day`` or that month's last day:
    the inverse of ``add_cycle`` for due dates anchored on ``anchor_day``
    (``add_cycle(subtract_cycle(d, c, anchor_day=a), c, anchor_day=a) == d``)."""
    months = MONTHS[cycle]
    year, month_index = divmod(end.month - 1 - months, 12)
    year, month = end.year + year, month_index + 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))

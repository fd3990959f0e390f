"""Sold out or not: asked of provisioning's placement, cached briefly for the catalogue pages,
asked again (never from the cache) at checkout, for the quantity ordered, before anything is
invoiced or paid."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from portal.store.models import Plan
from provisioning.placement import product_availability

CACHE_PREFIX = "store:available"


def plan_available(plan: Plan, *, fresh: bool = False) -> bool:
    """Whether a service of ``plan`` could be set up now (cached ``STORE_AVAILABILITY_SECONDS``
    unless ``fresh``)."""
    if not fresh:
        cached = cache.get(_key(plan))
        if cached is not None:
            return cached
    return plan_room(plan, count=1) == 1


def plan_room(plan: Plan, *, count: int) -> int:
    """How many of ``count`` new services of ``plan`` could be set up now (``count`` when all
    can), always asked of the panels; refreshes the catalogue's cached answer on the way."""
    availability = product_availability(plan.product, count=count)
    cache.set(_key(plan), availability.room > 0, settings.STORE_AVAILABILITY_SECONDS)
    return min(availability.room, count)


def _key(plan: Plan) -> str:
    return f"{CACHE_PREFIX}:{plan.product_id}"

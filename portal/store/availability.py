"""Sold out or not: asked of provisioning's placement, cached briefly for the catalogue pages,
asked again (never from the cache) at checkout, before anything is invoiced or paid."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from portal.store.models import Plan
from provisioning.placement import product_availability

CACHE_PREFIX = "store:available"


def plan_available(plan: Plan, *, fresh: bool = False) -> bool:
    """Whether a service of ``plan`` could be set up now (cached ``STORE_AVAILABILITY_SECONDS``
    unless ``fresh``)."""
    key = f"{CACHE_PREFIX}:{plan.product_id}"
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    available = product_availability(plan.product).available
    cache.set(key, available, settings.STORE_AVAILABILITY_SECONDS)
    return available

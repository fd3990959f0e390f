"""The catalogue as the public pages show it: plans on sale, their prices, what they give."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache

from portal.store.availability import plan_available
from portal.store.models import Plan, PlanPrice
from provisioning.panel_overview import product_protocols

PROTOCOLS_CACHE_SECONDS = 600
PROTOCOL_LABELS = {
    "wireguard": "WireGuard",
    "amneziawg": "AmneziaWG",
    "openvpn": "OpenVPN",
    "ikev2": "IKEv2",
}


@dataclass(frozen=True)
class PlanCard:
    plan: Plan
    prices: list[PlanPrice]
    available: bool

    @property
    def from_price(self) -> PlanPrice | None:
        return min(self.prices, key=lambda price: price.price, default=None)

    @property
    def download_mbps(self) -> int:
        return self.plan.product.typed_settings.download_mbps

    @property
    def upload_mbps(self) -> int:
        return self.plan.product.typed_settings.upload_mbps

    @property
    def metered(self) -> bool:
        return self.plan.product.typed_settings.metered


def plans_on_sale() -> list[PlanCard]:
    plans = Plan.objects.filter(on_sale=True).select_related("product").prefetch_related("prices")
    return [_card(plan) for plan in plans]


def plan_card(slug: str) -> PlanCard | None:
    plan = (
        Plan.objects.filter(on_sale=True, slug=slug)
        .select_related("product")
        .prefetch_related("prices")
        .first()
    )
    return None if plan is None else _card(plan)


def _card(plan: Plan) -> PlanCard:
    prices = sorted(plan.prices.all(), key=lambda price: _cycle_rank(price.cycle))
    return PlanCard(plan, prices, available=bool(prices) and plan_available(plan))


def _cycle_rank(cycle: str) -> int:
    return ["monthly", "quarterly", "semiannual", "annual"].index(cycle)


def plan_protocols(plan: Plan) -> list[str]:
    """Labels of the protocols the plan's networks offer (cached: networks change rarely). No
    answer is kept only briefly, so a panel that is down is not asked at every view of a public
    page, and asked again soon."""
    key = f"store:protocols:{plan.product_id}"
    labels = cache.get(key)
    if labels is None:
        labels = [PROTOCOL_LABELS.get(p.value, p.value) for p in product_protocols(plan.product)]
        seconds = PROTOCOLS_CACHE_SECONDS if labels else settings.STORE_AVAILABILITY_SECONDS
        cache.set(key, labels, seconds)
    return labels


def first_payment(prices: list[PlanPrice], quantity: int) -> Decimal:
    return sum((price.price + price.setup_fee) * quantity for price in prices)

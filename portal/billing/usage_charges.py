"""What one calendar month of traffic costs: a pure function, shared by the usage invoice and
the traffic page's card, so the customer sees the same figures on both.

Per direction (download, upload): the bytes used as GB (10^9 bytes, rounded half-up to
0.001 GB, as provisioning's usage does), less the GB included in the month (never below zero),
is the billable GB; times the price per GB, rounded **once, per line**, half-up to the
currency's minor unit, is the amount. The month's usage total is the sum of the rounded lines.
Only the directions the product meters are charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from portal.billing.money import ZERO, format_money, money
from provisioning.usage import bytes_to_gb

if TYPE_CHECKING:
    from portal.billing.models import UsagePricing
    from provisioning.models import Product

DOWNLOAD = "download"
UPLOAD = "upload"
VERBS = {DOWNLOAD: "downloaded", UPLOAD: "uploaded"}


@dataclass(frozen=True)
class Rate:
    """One direction's price per GB and the GB a month includes."""

    price_per_gb: Decimal
    included_gb: Decimal


@dataclass(frozen=True)
class UsageLine:
    direction: str
    used_gb: Decimal
    included_gb: Decimal
    billable_gb: Decimal
    price_per_gb: Decimal
    amount: Decimal

    @property
    def verb(self) -> str:
        return VERBS[self.direction]

    def describe(self) -> str:
        """``1.234 GB downloaded, 1 GB included, 0.234 GB billable at 0.50 EUR/GB``."""
        return (
            f"{gb_text(self.used_gb)} GB {self.verb}, {gb_text(self.included_gb)} GB included, "
            f"{gb_text(self.billable_gb)} GB billable at {format_money(self.price_per_gb)}/GB"
        )


@dataclass(frozen=True)
class UsageBill:
    lines: tuple[UsageLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def billable(self) -> bool:
        return self.total > 0


def rates_for(product: Product, pricing: UsagePricing) -> dict[str, Rate]:
    """The directions ``product`` meters, each with ``pricing``'s rate."""
    metrics = product.typed_settings
    rates = {}
    if metrics.metric_download:
        rates[DOWNLOAD] = Rate(pricing.price_per_gb_download, pricing.included_gb_download)
    if metrics.metric_upload:
        rates[UPLOAD] = Rate(pricing.price_per_gb_upload, pricing.included_gb_upload)
    return rates


def usage_line(direction: str, used_bytes: int, rate: Rate) -> UsageLine:
    used = bytes_to_gb(used_bytes)
    billable = max(used - rate.included_gb, ZERO)
    return UsageLine(
        direction=direction,
        used_gb=used,
        included_gb=rate.included_gb,
        billable_gb=billable,
        price_per_gb=rate.price_per_gb,
        amount=money(billable * rate.price_per_gb),
    )


def usage_bill(*, download_bytes: int, upload_bytes: int, rates: dict[str, Rate]) -> UsageBill:
    """The month's lines for the metered directions in ``rates`` (download first)."""
    used = {DOWNLOAD: download_bytes, UPLOAD: upload_bytes}
    return UsageBill(
        tuple(
            usage_line(direction, used[direction], rates[direction])
            for direction in (DOWNLOAD, UPLOAD)
            if direction in rates
        )
    )


def gb_text(value: Decimal) -> str:
    """GB without trailing zeros: ``1.5``, ``100``, ``0.001``."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text

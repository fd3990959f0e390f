"""Usage billing: after each UTC calendar month, an invoice for the traffic of each metered
subscription beyond what its product's :class:`UsagePricing` includes.

A daily task (``billing.issue_usage_charges``) bills every finished month not billed yet, from
the month the subscription (or the pricing, ``starts_on``) started; a terminated service's last
month too. Each month is read fresh from the panel first (``service_usage_refresh`` for that
month, which also stores it); when the panel cannot be reached the last stored snapshot is
billed and the lines say so; with no snapshot either the month waits for the next run (logged).

Safe to repeat: a month billed is one :class:`UsageCharge` per (subscription, year, month),
unique in the database, written under the subscription's row lock with its invoice (also
keyed by month), so a second run, or two at once, bills nothing twice. A month with nothing
billable gets its row and no invoice. The customer's credit pays what it can, as for renewals.
The service's lifecycle is not touched: an unpaid usage invoice is reminded like any invoice
but never suspends the service (dunning suspends for renewals only).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import Q

from portal.billing import events
from portal.billing.models import PlanChange, PlanChangeStatus, Subscription, UsageCharge
from portal.billing.services.credit import credit_apply
from portal.billing.services.invoices import LineSpec, invoice_create
from portal.billing.usage_charges import UsageBill, rates_for, usage_bill
from portal.core import clock
from provisioning.exceptions import NotOnPanel
from provisioning.models import Service, ServiceStatus, UsageSnapshot
from provisioning.usage import service_usage_refresh
from vpnpanel import PanelError

logger = logging.getLogger(__name__)

BILLED_STATUSES = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED, ServiceStatus.TERMINATED)
#: A service terminated longer ago than this has had its last month billed (or given up).
ENDED_LOOKBACK = timedelta(days=93)

Month = tuple[int, int]


@dataclass(frozen=True)
class Reading:
    """One month's bytes as billed, when they were read, and what the lines must say of it."""

    download_bytes: int
    upload_bytes: int
    read_at: datetime
    from_snapshot: bool = False
    note: str = ""


def usage_charges_issue(*, now: datetime | None = None) -> list[UsageCharge]:
    """Bill every finished month of every metered subscription that was not billed yet;
    returns the charges this run made (with or without an invoice)."""
    now = now or clock.now()
    made = []
    for subscription in _metered_subscriptions(now):
        for year, month in months_to_bill(subscription, now=now):
            charge = usage_charge_issue(subscription_id=subscription.pk, year=year, month=month)
            if charge is not None:
                made.append(charge)
    return made


def usage_charge_issue(*, subscription_id: int, year: int, month: int) -> UsageCharge | None:
    """Bill one month of one subscription; None when it was billed already (another run) or
    cannot be read yet (the panel is down and no snapshot exists)."""
    subscription = Subscription.objects.select_related(
        "customer__user", "service__server", "service__product__usage_pricing"
    ).get(pk=subscription_id)
    if _billed(subscription_id, year, month):
        return None
    reading = month_reading(subscription.service, year, month)
    if reading is None:
        return None
    product = subscription.service.product
    bill = usage_bill(
        download_bytes=reading.download_bytes,
        upload_bytes=reading.upload_bytes,
        rates=rates_for(product, product.usage_pricing),
    )
    with transaction.atomic():
        Subscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)
        if _billed(subscription_id, year, month):
            return None
        charge = _charge(subscription, year, month, reading, bill)
    if charge.invoice is not None:
        credit_apply(invoice=charge.invoice, actor=None)
    return charge


def months_to_bill(subscription: Subscription, *, now: datetime) -> list[Month]:
    """The finished months (UTC) from the subscription's (or the pricing's, or the change of plan
    onto its product's) first one to the last one before ``now`` — or the service's last, if it
    ended — not billed yet."""
    pricing = subscription.service.product.usage_pricing
    first = max(
        utc_month(subscription.created_at), (pricing.starts_on.year, pricing.starts_on.month)
    )
    if moved_at := _moved_onto_product_at(subscription):
        first = max(first, utc_month(moved_at))
    last = _previous(utc_month(now))
    if subscription.service.status == ServiceStatus.TERMINATED:
        last = min(last, utc_month(subscription.service.terminated_at or now))
    billed = set(subscription.usage_charges.values_list("year", "month"))
    return [month for month in months_between(first, last) if month not in billed]


def month_reading(service: Service, year: int, month: int) -> Reading | None:
    """The month read from the panel now (and stored); else the last stored snapshot, marked;
    else None (logged) while the service is on a panel, nothing used once it has ended."""
    failure: Exception | None = None
    if service.is_on_panel:
        try:
            snapshot = service_usage_refresh(service_id=service.pk, year=year, month=month)
        except (PanelError, NotOnPanel) as exc:
            failure = exc
        else:
            return Reading(snapshot.download_bytes, snapshot.upload_bytes, snapshot.pulled_at)
    snapshot = UsageSnapshot.objects.filter(service=service, year=year, month=month).first()
    if snapshot is None and failure is not None:
        logger.warning(
            "Usage billing: service %s %d-%02d not billed yet: the panel could not be reached "
            "(%s) and no reading is stored; the next run tries again",
            service.pk, year, month, failure,
        )  # fmt: skip
        return None
    if snapshot is None:
        logger.info(
            "Usage billing: service %s ended with no reading of %d-%02d", service.pk, year, month
        )
        return Reading(0, 0, clock.now(), note=" (no reading of the month: nothing counted)")
    why = "the panel could not be reached" if failure else "the last before the service ended"
    return Reading(
        snapshot.download_bytes,
        snapshot.upload_bytes,
        snapshot.pulled_at,
        from_snapshot=True,
        note=f" (from the reading of {utc_text(snapshot.pulled_at)}; {why})",
    )


def utc_month(moment: datetime) -> Month:
    moment = moment.astimezone(UTC)
    return moment.year, moment.month


def months_between(first: Month, last: Month) -> list[Month]:
    """Each (year, month) from ``first`` to ``last``, both included (none when last < first)."""
    months = []
    year, month = first
    while (year, month) <= last:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_name(year: int, month: int) -> str:
    return f"{date(year, month, 1):%B %Y}"


def utc_text(moment: datetime) -> str:
    """``2027-02-28 23:00 UTC``: readings are shown in UTC, the panel's months."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


# Internals ---------------------------------------------------------------------------------------


def _metered_subscriptions(now: datetime) -> list[Subscription]:
    ended_long_ago = Q(service__status=ServiceStatus.TERMINATED) & (
        Q(service__terminated_at__isnull=True) | Q(service__terminated_at__lt=now - ENDED_LOOKBACK)
    )
    candidates = (
        Subscription.objects.filter(
            service__status__in=BILLED_STATUSES, service__product__usage_pricing__isnull=False
        )
        .exclude(ended_long_ago)
        .select_related("service__product__usage_pricing")
        .order_by("pk")
    )
    return [s for s in candidates if s.service.product.typed_settings.metered]


def _moved_onto_product_at(subscription: Subscription) -> datetime | None:
    """When a change of plan last moved the service onto its product (None: ordered on it)."""
    return (
        PlanChange.objects.filter(
            subscription=subscription,
            status=PlanChangeStatus.APPLIED,
            to_product_id=subscription.service.product_id,
        )
        .order_by("-applied_at")
        .values_list("applied_at", flat=True)
        .first()
    )


def _billed(subscription_id: int, year: int, month: int) -> bool:
    return UsageCharge.objects.filter(
        subscription_id=subscription_id, year=year, month=month
    ).exists()


def _charge(
    subscription: Subscription, year: int, month: int, reading: Reading, bill: UsageBill
) -> UsageCharge:
    """The month's row and, when something is billable, its invoice (emailed); audited."""
    invoice = None
    if bill.billable:
        invoice = invoice_create(
            customer=subscription.customer,
            lines=[
                LineSpec(
                    description=_describe(subscription, year, month, line.describe(), reading),
                    unit_price=line.amount,
                )
                for line in bill.lines
            ],
            actor=None,
            source_key=f"usage:{subscription.pk}:{year}-{month:02d}",
            notify=True,
        )
    charge = UsageCharge.objects.create(
        subscription=subscription,
        year=year,
        month=month,
        download_bytes=reading.download_bytes,
        upload_bytes=reading.upload_bytes,
        read_at=reading.read_at,
        from_snapshot=reading.from_snapshot,
        amount=bill.total,
        invoice=invoice,
    )
    events.record(
        customer_id=subscription.customer_id, invoice=invoice, action="usage_billed",
        service=subscription.service_id, month=f"{year}-{month:02d}", amount=bill.total,
        download_bytes=reading.download_bytes, upload_bytes=reading.upload_bytes,
        from_snapshot=reading.from_snapshot,
    )  # fmt: skip
    return charge


def _describe(
    subscription: Subscription, year: int, month: int, figures: str, reading: Reading
) -> str:
    text = f"Traffic {month_name(year, month)}, service #{subscription.service_id}: {figures}"
    return f"{text}{reading.note}"[:255]


def _previous(month: Month) -> Month:
    year, number = month
    return (year - 1, 12) if number == 1 else (year, number - 1)

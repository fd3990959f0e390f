"""The dashboard's figures, read from the store, billing and provisioning.

Every function aggregates in SQL and runs a fixed number of queries, however many services,
invoices, panels or module-log rows there are. Months and days are the provider's calendar
(``TIME_ZONE``, as billing's due dates); the latency window counts whole UTC hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, F, Max, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from portal.billing.cycles import MONTHS
from portal.billing.models import (
    Gateway,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentRefund,
    RefundStatus,
    Subscription,
)
from portal.billing.money import ZERO, currency, money
from portal.core import clock
from portal.store.models import Order
from provisioning.models import (
    CAPACITY_STATUSES,
    CallOutcome,
    ModuleLogEntry,
    Server,
    Service,
    ServiceStatus,
)
from provisioning.selectors import findings_open, services_needing_attention

#: An action the worker gave up on (``Service.action_parked``), waiting for an admin's retry.
PARKED = ~Q(pending_action="") & Q(action_failed_at__isnull=False)
ACTIVITY_HOURS = 24


@dataclass(frozen=True)
class ServiceCounts:
    """Services by status (every status, in the model's order), and those an admin must see to."""

    by_status: dict[str, int]
    parked: int
    flagged: int
    needing_admin: int


def service_counts() -> ServiceCounts:
    """One query: a conditional count per status, parked action, flag and "needs attention"."""
    needing_admin = services_needing_attention().values("pk")
    row = Service.objects.aggregate(
        **{f"status_{s}": Count("pk", filter=Q(status=s)) for s in ServiceStatus.values},
        parked=Count("pk", filter=PARKED),
        flagged=Count("pk", filter=Q(needs_attention=True)),
        needing_admin=Count("pk", filter=Q(pk__in=needing_admin)),
    )
    return ServiceCounts(
        by_status={s: row[f"status_{s}"] for s in ServiceStatus.values},
        parked=row["parked"],
        flagged=row["flagged"],
        needing_admin=row["needing_admin"],
    )


def open_findings_count() -> int:
    return findings_open().count()


@dataclass(frozen=True)
class MonthSales:
    """This month's orders, and the money received through a gateway less what was refunded of
    it; a payment from credit is not counted (that money was counted when it came in)."""

    month_start: date
    orders: int
    received: Decimal
    refunded: Decimal

    @property
    def revenue(self) -> Decimal:
        return self.received - self.refunded


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def month_sales(*, today: date | None = None) -> MonthSales:
    """Three queries: the month's orders, payments received and refunds completed."""
    first = (today or clock.today()).replace(day=1)
    start = local_midnight(first)
    end = local_midnight((first + timedelta(days=32)).replace(day=1))
    received = (
        Payment.objects.filter(received_at__gte=start, received_at__lt=end, currency=currency())
        .exclude(gateway=Gateway.CREDIT)
        .aggregate(total=Sum("amount"))["total"]
    )
    refunded = (
        PaymentRefund.objects.filter(
            status=RefundStatus.DONE,
            completed_at__gte=start,
            completed_at__lt=end,
            payment__currency=currency(),
        )
        .exclude(payment__gateway=Gateway.CREDIT)
        .aggregate(total=Sum("amount"))["total"]
    )
    return MonthSales(
        month_start=first,
        orders=Order.objects.filter(created_at__gte=start, created_at__lt=end).count(),
        received=money(received or ZERO),
        refunded=money(refunded or ZERO),
    )


def monthly_recurring_revenue() -> Decimal:
    """The recurring price of every active service's subscription, each normalised to one month
    (a quarterly price counts a third); one query, summed per cycle in SQL."""
    totals = (
        Subscription.objects.filter(service__status=ServiceStatus.ACTIVE)
        .values("cycle")
        .annotate(total=Sum("recurring_price"))
        .order_by()
    )
    return money(sum((row["total"] / MONTHS[row["cycle"]] for row in totals), ZERO))


@dataclass(frozen=True)
class Overdue:
    count: int
    amount: Decimal


def overdue_invoices(*, today: date | None = None) -> Overdue:
    """Unpaid invoices whose due date has passed, and their balance; one query. An unpaid
    "add funds" invoice is not a debt (dunning leaves it alone too), so it is left out."""
    row = (
        Invoice.objects.filter(
            kind=InvoiceKind.INVOICE,
            status=InvoiceStatus.UNPAID,
            due_at__date__lt=today or clock.today(),
            currency=currency(),
        )
        .exclude(lines__adds_credit=True)
        .aggregate(count=Count("pk"), amount=Sum(F("total") - F("amount_paid")))
    )
    return Overdue(count=row["count"], amount=money(row["amount"] or ZERO))


@dataclass(frozen=True)
class PanelLoad:
    """One panel: its licence slots as the panel last reported them (``panel_*``; None until
    provisioning has read its system/status), and our services holding an account on it against
    its local cap (None: no cap). The dashboard never calls a panel itself."""

    server_id: int
    name: str
    enabled: bool
    reconciliation_complete: bool
    used: int
    cap: int | None
    panel_used: int | None = None
    panel_total: int | None = None
    panel_seen_at: datetime | None = None

    @property
    def panel_known(self) -> bool:
        return self.panel_total is not None and self.panel_used is not None

    @property
    def cap_is_lower(self) -> bool:
        """The local cap is the tighter limit (or the only one known)."""
        if self.cap is None:
            return False
        return not self.panel_known or self.cap < self.panel_total

    @property
    def fill_percent(self) -> int | None:
        """The panel's share of its licence slots in use, or ours of the local cap when the
        panel's figures are not known yet."""
        if self.panel_known:
            used, total = self.panel_used, self.panel_total
        else:
            used, total = self.used, self.cap
        if not total:
            return None
        return min(round(100 * used / total), 100)


def panel_loads() -> list[PanelLoad]:
    """Every panel by name with its used accounts; one query."""
    rows = Server.objects.annotate(
        used=Count("services", filter=Q(services__status__in=CAPACITY_STATUSES))
    ).order_by("name")
    return [
        PanelLoad(
            server_id=row.pk,
            name=row.name,
            enabled=row.enabled,
            reconciliation_complete=row.reconciliation_complete,
            used=row.used,
            cap=row.max_accounts,
            panel_used=row.panel_accounts_used,
            panel_total=row.panel_accounts_total,
            panel_seen_at=row.panel_status_at,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class HourlyCalls:
    """A panel's logged calls per hour of the window: counts, failures, latency (None: no
    call that hour)."""

    calls: list[int]
    failures: list[int]
    avg_ms: list[float | None]
    max_ms: list[float | None]

    @classmethod
    def empty(cls, hours: int) -> HourlyCalls:
        return cls([0] * hours, [0] * hours, [None] * hours, [None] * hours)

    @property
    def total_calls(self) -> int:
        return sum(self.calls)

    @property
    def total_failures(self) -> int:
        return sum(self.failures)


@dataclass(frozen=True)
class PanelActivity:
    """The module log of the last ``ACTIVITY_HOURS`` hours by panel and UTC hour (the current
    hour last), from the rows the portal keeps (successful reads are sampled)."""

    hours: list[datetime]
    by_server: dict[int, HourlyCalls]

    def of(self, server_id: int) -> HourlyCalls:
        return self.by_server.get(server_id) or HourlyCalls.empty(len(self.hours))


def panel_activity(*, now: datetime | None = None) -> PanelActivity:
    """One query grouped by panel and hour."""
    current = (now or timezone.now()).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [current - timedelta(hours=back) for back in range(ACTIVITY_HOURS - 1, -1, -1)]
    index = {hour: position for position, hour in enumerate(hours)}
    rows = (
        ModuleLogEntry.objects.filter(created_at__gte=hours[0], server__isnull=False)
        .annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values("server_id", "hour")
        .annotate(
            calls=Count("pk"),
            failures=Count("pk", filter=Q(outcome=CallOutcome.ERROR)),
            avg_ms=Avg("duration_ms"),
            max_ms=Max("duration_ms"),
        )
        .order_by()
    )
    by_server: dict[int, HourlyCalls] = {}
    for row in rows:
        position = index.get(row["hour"].astimezone(UTC))
        if position is None:  # logged "in the future" (a clock ahead): not in the window
            continue
        series = by_server.setdefault(row["server_id"], HourlyCalls.empty(ACTIVITY_HOURS))
        series.calls[position] = row["calls"]
        series.failures[position] = row["failures"]
        series.avg_ms[position] = round(row["avg_ms"], 1)
        series.max_ms[position] = round(row["max_ms"], 1)
    return PanelActivity(hours=hours, by_server=by_server)

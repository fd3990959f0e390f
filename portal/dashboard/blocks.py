"""The dashboard as the admin index shows it: the blocks a user's permissions allow, each figure
with a link to the admin list it counts. A block the user may not see is not computed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from portal.billing.models import Gateway, InvoiceKind, InvoiceStatus
from portal.billing.money import currency
from portal.core import clock
from portal.dashboard import selectors
from provisioning.models import ServiceStatus
from provisioning.selectors import AttentionCounts

# Two bases, named on the page: revenue is money received (tax included, as paid); MRR is the
# recurring prices, which are net of tax (as WHMCS-like dashboards show it).
REVENUE_LABEL = "Revenue this month (received, incl. tax)"
MRR_LABEL = "MRR (net of tax)"


@dataclass(frozen=True)
class Figure:
    label: str
    value: Any
    url: str
    is_money: bool = False


@dataclass(frozen=True)
class Attention:
    """What needs an admin: the counts of the "Needs attention" page, and its parts."""

    counts: AttentionCounts
    figures: list[Figure]


@dataclass(frozen=True)
class Money:
    month_start: date
    figures: list[Figure]
    detail: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class PanelRow:
    load: selectors.PanelLoad
    url: str
    show_slots: bool
    activity: selectors.HourlyCalls | None


@dataclass(frozen=True)
class Dashboard:
    services: list[Figure] | None = None
    attention: Attention | None = None
    money: Money | None = None
    panels: list[PanelRow] | None = None
    chart: dict[str, Any] | None = None


def changelist(model: str, **filters: Any) -> str:
    """The admin list of ``app_label_model``, filtered as its own filter links would be."""
    url = reverse(f"admin:{model}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def dashboard_for(user: Any) -> Dashboard:
    may = user.has_perm
    sees_services = may("provisioning.view_service")
    sees_panels = may("provisioning.view_server") or may("provisioning.view_modulelogentry")
    loads = selectors.panel_loads() if sees_services or sees_panels else []
    services = attention = panels = chart = None
    if sees_services:
        counts = selectors.service_counts()
        services = _service_figures(counts)
        attention = _attention(counts, loads, may("provisioning.view_reconciliationfinding"))
    if sees_panels:
        panels, chart = _panels(user, loads)
    return Dashboard(
        services=services, attention=attention, money=_money(may), panels=panels, chart=chart
    )


def _service_figures(counts: selectors.ServiceCounts) -> list[Figure]:
    return [
        Figure(label, counts.by_status[status], changelist("provisioning_service", status=status))
        for status, label in ServiceStatus.choices
    ]


def _attention(
    counts: selectors.ServiceCounts, loads: list[selectors.PanelLoad], may_list_findings: bool
) -> Attention:
    """The "Needs attention" sentence counts what its page lists (findings included, as for
    anyone who may see services); the findings figure links to their list, for those who may
    open it."""
    findings = selectors.open_findings_count()
    incomplete = sum(1 for load in loads if load.enabled and not load.reconciliation_complete)
    figures = [
        Figure(
            "Parked actions",
            counts.parked,
            changelist("provisioning_service", action_state="parked"),
        ),
        Figure(
            "Failed services",
            counts.by_status[ServiceStatus.FAILED],
            changelist("provisioning_service", status=ServiceStatus.FAILED),
        ),
        Figure(
            "Flagged for an admin",
            counts.flagged,
            changelist("provisioning_service", needs_attention__exact=1),
        ),
    ]
    if may_list_findings:
        figures.append(
            Figure(
                "Open reconciliation findings",
                findings,
                changelist("provisioning_reconciliationfinding", state="open"),
            )
        )
    return Attention(
        counts=AttentionCounts(
            services=counts.needing_admin, findings=findings, servers=incomplete
        ),
        figures=figures,
    )


def _money(may: Any) -> Money | None:
    """Orders, revenue, MRR and overdue invoices, each shown only with its model's view right
    (a support user sees none of them)."""
    today = clock.today()
    figures: list[Figure] = []
    detail: dict[str, Decimal] = {}
    sales = None
    if may("store.view_order") or may("billing.view_payment"):
        sales = selectors.month_sales(today=today)
    if may("store.view_order"):
        figures.append(
            Figure(
                "New orders this month",
                sales.orders,
                changelist(
                    "store_order", created_at__year=today.year, created_at__month=today.month
                ),
            )
        )
    if may("billing.view_payment"):
        paid_in = ",".join(g for g in Gateway.values if g != Gateway.CREDIT)
        figures.append(
            Figure(
                REVENUE_LABEL,
                sales.revenue,
                is_money=True,
                url=changelist(
                    "billing_payment",
                    gateway__in=paid_in,
                    received_at__year=today.year,
                    received_at__month=today.month,
                ),
            )
        )
        detail = {"received": sales.received, "refunded": sales.refunded}
    if may("billing.view_subscription"):
        figures.append(
            Figure(
                MRR_LABEL,
                selectors.monthly_recurring_revenue(),
                changelist("billing_subscription"),
                is_money=True,
            )
        )
    if may("billing.view_invoice"):
        overdue = selectors.overdue_invoices(today=today)
        url = changelist(
            "billing_invoice",
            status__exact=InvoiceStatus.UNPAID,
            kind__exact=InvoiceKind.INVOICE,
            due_at__date__lt=today.isoformat(),
            adds_funds="no",
            currency=currency(),
        )
        figures.append(Figure("Overdue invoices", overdue.count, url))
        figures.append(Figure("Overdue amount", overdue.amount, url, is_money=True))
    if not figures:
        return None
    return Money(month_start=today.replace(day=1), figures=figures, detail=detail)


def _panels(
    user: Any, loads: list[selectors.PanelLoad]
) -> tuple[list[PanelRow], dict[str, Any] | None]:
    """Each panel's slots (with the right to view servers) and its calls of the last 24 hours
    (with the right to view the module log), and the chart's data."""
    show_slots = user.has_perm("provisioning.view_server")
    activity = (
        selectors.panel_activity() if user.has_perm("provisioning.view_modulelogentry") else None
    )
    rows = []
    for load in loads:
        if show_slots:
            url = reverse("admin:provisioning_server_change", args=[load.server_id])
        else:
            url = changelist("provisioning_modulelogentry", server__id__exact=load.server_id)
        series = activity.of(load.server_id) if activity else None
        rows.append(PanelRow(load=load, url=url, show_slots=show_slots, activity=series))
    if activity is None or not rows:
        return rows, None
    chart = {
        "hours": [timezone.localtime(hour).strftime("%H:%M") for hour in activity.hours],
        "panels": {
            str(row.load.server_id): {
                "calls": row.activity.calls,
                "failures": row.activity.failures,
                "avg_ms": row.activity.avg_ms,
                "max_ms": row.activity.max_ms,
            }
            for row in rows
        },
    }
    return rows, chart

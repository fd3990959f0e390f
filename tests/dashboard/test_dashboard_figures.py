"""The dashboard's figures (portal/dashboard/selectors.py) on rows made as the apps make them:
services by status and those needing an admin, this month's orders and revenue net of refunds,
MRR of monthly, quarterly and annual subscriptions, overdue invoices, each panel's used slots,
and its calls of the last 24 hours by hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portal.billing.services import LineSpec, credit_apply, invoice_create, payment_record
from portal.billing.services.refunds import payment_refund
from portal.dashboard import selectors
from provisioning.models import CallOutcome, ServiceStatus
from tests.billing.helpers import at, pay
from tests.dashboard.seeding import invoice_of, subscribe
from tests.factories import (
    ModuleLogEntryFactory,
    OrderFactory,
    ReconciliationFindingFactory,
    ServerFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db


def test_services_are_counted_by_status_with_parked_and_flagged_ones(service_factory):
    for status, count in [("active", 3), ("suspended", 2), ("terminated", 1), ("failed", 1)]:
        for _ in range(count):
            service_factory(status=status)
    service_factory(status="active", pending_action="suspend", action_failed_at=timezone.now())
    service_factory(status="active", pending_action="suspend")  # queued, not parked
    service_factory(status="terminated", needs_attention=True, attention_reason="orphan name")

    counts = selectors.service_counts()

    assert counts.by_status == {
        "pending": 0, "provisioning": 0, "active": 5, "suspended": 2, "terminated": 2, "failed": 1,
    }  # fmt: skip
    assert (counts.parked, counts.flagged) == (1, 1)
    assert counts.needing_admin == 3  # the failed one, the parked one, the flagged one


def test_open_findings_leave_out_resolved_ones():
    ReconciliationFindingFactory.create_batch(2)
    ReconciliationFindingFactory(resolved_at=timezone.now())

    assert selectors.open_findings_count() == 2


def test_revenue_is_money_received_this_month_less_this_months_refunds(customer):
    with at("2027-01-31"):
        january = invoice_of(customer, "40.00")
        pay(january, "bank-jan")
    with at("2027-02-10"):
        february = invoice_of(customer, "100.00")
        pay(february, "bank-feb")
        payment_refund(
            payment=february.payments.get(), amount=Decimal("30.00"), actor=None,
            to_credit=True, key="refund-feb",
        )  # fmt: skip
    with at("2027-02-11"):
        from_credit = credit_apply(invoice=invoice_of(customer, "25.00"), actor=None)
    with at("2027-02-12"):
        payment_refund(
            payment=january.payments.get(), amount=Decimal("10.00"), actor=None,
            to_credit=True, key="refund-jan",
        )  # fmt: skip

    with at("2027-02-20"):
        sales = selectors.month_sales()

    assert from_credit.amount == Decimal("25.00")  # paid from credit: not money coming in
    assert sales.received == Decimal("100.00")
    assert sales.refunded == Decimal("40.00")  # this month's refunds, of any month's payments
    assert sales.revenue == Decimal("60.00")
    with at("2027-01-31"):
        assert selectors.month_sales().revenue == Decimal("40.00")


def test_the_month_is_the_providers_calendar_month(settings, customer):
    settings.TIME_ZONE = "Europe/Berlin"
    with at("2027-02-28"):
        invoice = invoice_of(customer, "12.00")
    late = datetime(2027, 2, 28, 23, 30, tzinfo=UTC)  # 00:30 on 1 March in Berlin
    payment_record(
        invoice=invoice, amount=invoice.balance_due, gateway="bank_transfer",
        reference="bank-late", actor=None,
    )  # fmt: skip
    invoice.payments.update(received_at=late)

    with at("2027-03-02"):
        assert selectors.month_sales().received == invoice.total
    with at("2027-02-27"):
        assert selectors.month_sales().received == Decimal("0.00")


def test_new_orders_are_this_months():
    with at("2027-01-31"):
        OrderFactory()
    with at("2027-02-01"):
        OrderFactory.create_batch(2)

    with at("2027-02-20"):
        assert selectors.month_sales().orders == 2


def test_mrr_normalises_each_active_subscription_to_a_month(customer, product):
    subscribe(customer, product, "monthly", "9.99")
    subscribe(customer, product, "quarterly", "27.00")  # 9.00 a month
    subscribe(customer, product, "semiannual", "60.00")  # 10.00 a month
    subscribe(customer, product, "annual", "100.00")  # 8.333… a month
    subscribe(customer, product, "monthly", "50.00", status=ServiceStatus.SUSPENDED)
    subscribe(customer, product, "annual", "120.00", status=ServiceStatus.TERMINATED)

    assert selectors.monthly_recurring_revenue() == Decimal("37.32")  # 37.3233… rounded


def test_no_subscriptions_no_mrr():
    assert selectors.monthly_recurring_revenue() == Decimal("0.00")


def test_overdue_invoices_are_unpaid_ones_past_their_due_date_with_their_balance(customer):
    def due(day: str) -> datetime:
        return datetime.fromisoformat(f"{day}T10:00:00+00:00")

    with at("2027-02-01"):
        partly_paid = invoice_of(customer, "20.00", due_at=due("2027-02-19"))
        payment_record(
            invoice=partly_paid, amount=Decimal("5.00"), gateway="bank_transfer",
            reference="bank-part", actor=None,
        )  # fmt: skip
        invoice_of(customer, "30.00", due_at=due("2027-02-10"))
        invoice_of(customer, "7.00", due_at=due("2027-02-20"))  # due today: not yet overdue
        paid = invoice_of(customer, "8.00", due_at=due("2027-02-10"))
        pay(paid, "bank-paid")
        add_funds = LineSpec(description="Add funds", unit_price=Decimal("50"), adds_credit=True)
        invoice_create(customer=customer, lines=[add_funds], actor=None, due_at=due("2027-02-10"))

    with at("2027-02-20"):
        overdue = selectors.overdue_invoices()

    assert overdue.count == 2
    assert overdue.amount == Decimal("45.00")


def test_a_panels_used_slots_are_our_services_holding_an_account_on_it():
    capped = ServerFactory(name="capped", max_accounts=10)
    uncapped = ServerFactory(name="uncapped")
    for status in ["active", "active", "suspended", "provisioning", "pending", "terminated"]:
        ServiceFactory(server=capped, status=status)
    ServiceFactory(server=uncapped, status="active")

    loads = {load.name: load for load in selectors.panel_loads()}

    assert (loads["capped"].used, loads["capped"].cap, loads["capped"].fill_percent) == (4, 10, 40)
    assert (loads["uncapped"].used, loads["uncapped"].cap) == (1, None)
    assert loads["uncapped"].fill_percent is None


def test_a_panels_licence_slots_are_its_last_reported_figures():
    seen_at = datetime(2027, 2, 20, 9, 30, tzinfo=UTC)
    licensed = ServerFactory(
        name="licensed", max_accounts=20, panel_accounts_used=30, panel_accounts_total=120,
        panel_status_at=seen_at,
    )  # fmt: skip
    ServiceFactory(server=licensed, status="active")
    ServerFactory(name="loose", max_accounts=500, panel_accounts_used=5, panel_accounts_total=50)

    loads = {load.name: load for load in selectors.panel_loads()}

    licensed_load = loads["licensed"]
    assert (licensed_load.panel_used, licensed_load.panel_total) == (30, 120)
    assert licensed_load.panel_seen_at == seen_at
    assert licensed_load.fill_percent == 25  # of the panel's slots, not of the local cap
    assert licensed_load.cap_is_lower  # 20 under the panel's 120
    assert (licensed_load.used, licensed_load.cap) == (1, 20)
    assert not loads["loose"].cap_is_lower


def test_panel_calls_are_bucketed_by_hour_over_the_last_24_hours():
    now = datetime(2027, 2, 20, 12, 20, tzinfo=UTC)
    busy, quiet, idle = ServerFactory(), ServerFactory(), ServerFactory()

    def call(server, at: datetime, ms: float, outcome=CallOutcome.OK) -> None:
        ModuleLogEntryFactory(server=server, created_at=at, duration_ms=ms, outcome=outcome)

    call(busy, now - timedelta(minutes=30), 100)  # 11:50
    call(busy, now - timedelta(minutes=50), 300, CallOutcome.ERROR)  # 11:30
    call(busy, now - timedelta(minutes=10), 50)  # 12:10, the current hour
    call(busy, now - timedelta(hours=25), 999, CallOutcome.ERROR)  # before the window
    call(quiet, datetime(2027, 2, 20, 0, 30, tzinfo=UTC), 40, CallOutcome.ERROR)
    ModuleLogEntryFactory(server=None, created_at=now, duration_ms=1)  # no panel: not counted

    activity = selectors.panel_activity(now=now)

    assert len(activity.hours) == 24
    assert activity.hours[0] == datetime(2027, 2, 19, 13, tzinfo=UTC)
    assert activity.hours[-1] == datetime(2027, 2, 20, 12, tzinfo=UTC)
    series = activity.of(busy.pk)
    assert (series.calls[22], series.failures[22]) == (2, 1)
    assert (series.avg_ms[22], series.max_ms[22]) == (200.0, 300.0)
    assert (series.calls[23], series.avg_ms[23]) == (1, 50.0)
    assert (series.total_calls, series.total_failures) == (3, 1)
    assert series.avg_ms[:22] == [None] * 22
    quiet_series = activity.of(quiet.pk)
    assert quiet_series.failures[11] == 1
    assert quiet_series.total_failures == 1
    assert activity.of(idle.pk).total_calls == 0
    assert activity.of(idle.pk).avg_ms == [None] * 24

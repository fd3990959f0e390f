"""Changing plan, service level (the clock moved with time-machine; the worker never runs: the
change of package is asked of provisioning, the panel side is the end-to-end test's): an upgrade
invoices the proration, to the cent, and paying it changes the package, the price and what
renewals say; a downgrade credits the difference at once; a double submit makes one change;
refusals; a cancelled invoice cancels its change; the daily run expires an unpaid one; the
due date taken back one cycle is the inverse of adding one."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.billing.cycles import MONTHS, add_cycle, subtract_cycle
from portal.billing.models import (
    BillingEvent,
    CancellationRequest,
    CreditEntry,
    InvoiceStatus,
    PlanChange,
    PlanChangeStatus,
    Subscription,
    TaxRate,
)
from portal.billing.proration import prorate
from portal.billing.selectors import credit_balance
from portal.billing.services import LineSpec, invoice_cancel, invoice_create, payment_record
from portal.billing.services.invoices import BillingRefused
from portal.billing.services.payments import invoice_settle_if_free
from portal.billing.services.plan_changes import (
    plan_change_quote,
    plan_change_start,
    plan_changes_run,
)
from portal.billing.services.renewals import renewals_issue
from portal.core.models import Branding
from provisioning.models import Service, ServiceAction, ServiceStatus
from tests.billing.helpers import at, pay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sent_tasks")]


@pytest.fixture
def plans(product_for):
    """VPN 100 (9.99 a month) and VPN 500 (19.99), VPN 10 (4.99)."""
    return {
        "small": product_for(name="VPN 10", download_mbps=10),
        "big": product_for(name="VPN 500", download_mbps=500),
    }


@pytest.fixture
def active(customer, product) -> Subscription:
    """A monthly VPN 100 at 9.99 paid on 10 Jan 2027 (due 10 Feb), its service active."""
    line = LineSpec(
        description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=product,
        cycle="monthly",
    )  # fmt: skip
    with at("2027-01-10"):
        pay(invoice_create(customer=customer, lines=[line], actor=None), "bank-order")
    subscription = Subscription.objects.get(customer=customer)
    Service.objects.filter(pk=subscription.service_id).update(
        status=ServiceStatus.ACTIVE, pending_action="", action_requested_at=None,
        action_due_at=None, action_token=None,
    )  # fmt: skip
    return subscription


def change_to(subscription, product, price: str, actor=None) -> PlanChange:
    return plan_change_start(
        subscription=subscription, product=product, recurring_price=Decimal(price),
        description=f"{product.name} (monthly)", actor=actor,
    )  # fmt: skip


def test_an_upgrade_invoices_the_proration_to_the_cent(active, plans):
    with at("2027-01-20"):
        change = change_to(active, plans["big"], "19.99")

    # 21 of the 31 days of 10 Jan to 9 Feb are left: 19.99 * 21/31 = 13.5416… and
    # 9.99 * 21/31 = 6.7674…, each rounded half-up on its own.
    assert (change.days_left, change.days_in_period) == (21, 31)
    assert (change.charge, change.credit, change.due) == (
        Decimal("13.54"),
        Decimal("6.77"),
        Decimal("6.77"),
    )
    assert change.status == PlanChangeStatus.PENDING
    assert (change.period_start, change.period_end) == (date(2027, 1, 10), date(2027, 2, 10))
    lines = [(line.description, line.amount) for line in change.invoice.lines.all()]
    assert lines == [
        (f"VPN 500 (monthly), service #{active.service_id}: 21 of 31 days, 20 Jan 2027 to "
         "9 Feb 2027", Decimal("13.54")),
        ("Credit for VPN 100 (monthly) not used: 21 of 31 days, 20 Jan 2027 to 9 Feb 2027",
         Decimal("-6.77")),
    ]  # fmt: skip
    assert change.invoice.subtotal == Decimal("6.77")
    assert change.invoice.due_at.date() == date(2027, 1, 27)
    assert change.due == prorate(
        old_price=Decimal("9.99"), new_price=Decimal("19.99"), period_start=date(2027, 1, 10),
        period_end=date(2027, 2, 10), on=date(2027, 1, 20),
    ).due  # fmt: skip
    service = Service.objects.get(pk=active.service_id)
    assert service.product_id != plans["big"].pk
    assert not service.pending_action


def test_paying_the_upgrade_changes_the_package_the_price_and_the_renewals_name(
    active, plans, customer
):
    with at("2027-01-20"):
        change = change_to(active, plans["big"], "19.99", actor=customer.user)
        pay(change.invoice, "bank-upgrade")

    change.refresh_from_db()
    assert change.status == PlanChangeStatus.APPLIED
    assert change.applied_at is not None
    service = Service.objects.get(pk=active.service_id)
    assert service.pending_action == ServiceAction.CHANGE_PACKAGE
    assert service.pending_product_id == plans["big"].pk
    active.refresh_from_db()
    assert (active.recurring_price, active.description) == (Decimal("19.99"), "VPN 500 (monthly)")
    assert active.next_due_date == date(2027, 2, 10)  # unchanged: the paid time is the same
    assert BillingEvent.objects.filter(action="plan_changed").count() == 1

    with at("2027-02-03"):
        [renewal] = renewals_issue()
    [line] = renewal.invoice.lines.all()
    assert line.description == (
        f"VPN 500 (monthly), service #{active.service_id}: 10 Feb 2027 to 9 Mar 2027"
    )
    assert line.amount == Decimal("19.99")


def test_a_downgrade_credits_the_difference_and_applies_at_once(active, plans, customer):
    with at("2027-01-20"):
        change = change_to(active, plans["small"], "4.99")

    # 9.99 * 21/31 = 6.77 back, 4.99 * 21/31 = 3.3803… = 3.38 charged: 3.39 credited.
    assert (change.credit, change.charge, change.due) == (
        Decimal("6.77"),
        Decimal("3.38"),
        Decimal("-3.39"),
    )
    assert change.invoice is None
    assert change.status == PlanChangeStatus.APPLIED
    assert credit_balance(customer) == Decimal("3.39")
    assert BillingEvent.objects.filter(action="plan_change_credited").count() == 1
    assert Service.objects.get(pk=active.service_id).pending_product_id == plans["small"].pk
    active.refresh_from_db()
    assert active.recurring_price == Decimal("4.99")


@pytest.fixture
def german_vat() -> None:
    """A German seller charging 19 % VAT; the customer (no country given) pays it."""
    Branding.objects.update_or_create(pk=1, defaults={"country": "DE", "vat_id": "DE136695976"})
    TaxRate.objects.create(country="DE", name="VAT", rate=Decimal("19"))


def test_a_downgrade_and_back_the_same_day_costs_nothing_with_vat(
    german_vat, active, plans, customer, product
):
    with at("2027-01-20"):
        down = change_to(active, plans["small"], "4.99")
        Service.objects.filter(pk=active.service_id).update(
            pending_action="", pending_product=None, product=plans["small"]
        )
        # 3.39 net back, as the customer paid it: with 19 % VAT, 3.39 + 0.64.
        assert credit_balance(customer) == Decimal("4.03")
        up = change_to(active, product, "9.99")

    # Same day, same days: the upgrade's net is the downgrade's net, its VAT the same rounding.
    assert up.due == -down.due == Decimal("3.39")
    up.invoice.refresh_from_db()
    assert (up.invoice.total, up.invoice.status) == (Decimal("4.03"), InvoiceStatus.PAID)
    assert credit_balance(customer) == 0


def test_a_first_period_free_with_a_coupon_is_never_credited(customer, product, plans):
    lines = [
        LineSpec(
            description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=product,
            cycle="monthly", recurring_price=Decimal("9.99"),
        ),
        LineSpec(description="Coupon FIRSTFREE: first payment free", unit_price=Decimal("-9.99")),
    ]  # fmt: skip
    with at("2027-01-10"):
        invoice_settle_if_free(
            invoice=invoice_create(customer=customer, lines=lines, actor=None), actor=None
        )
    subscription = Subscription.objects.get(customer=customer)
    assert subscription.recurring_price == Decimal("9.99")
    Service.objects.filter(pk=subscription.service_id).update(
        status=ServiceStatus.ACTIVE, pending_action="", action_requested_at=None,
        action_due_at=None, action_token=None,
    )  # fmt: skip
    with at("2027-01-20"):
        change = change_to(subscription, plans["small"], "4.99")

    # Nothing was paid for the period: no credit for it (the cheaper plan's days are due).
    assert (change.credit, change.charge) == (Decimal("0.00"), Decimal("3.38"))
    assert credit_balance(customer) == 0
    assert [line.amount for line in change.invoice.lines.all()] == [Decimal("3.38")]


def test_credit_pays_an_upgrade_at_once(active, plans, customer):
    with at("2027-01-20"):
        change_to(active, plans["small"], "4.99")  # 3.39 credited
        Service.objects.filter(pk=active.service_id).update(
            pending_action="", pending_product=None, product=plans["small"]
        )
        change = change_to(active, plans["big"], "19.99")

    # 4.99 * 21/31 = 3.38 back, 19.99 * 21/31 = 13.54: 10.16 due, 3.39 of it from credit.
    assert change.due == Decimal("10.16")
    change.invoice.refresh_from_db()
    assert change.invoice.amount_paid == Decimal("3.39")
    assert change.status == PlanChangeStatus.PENDING
    assert credit_balance(customer) == 0


def test_asked_twice_one_change_and_one_invoice(active, plans):
    with at("2027-01-20"):
        first = change_to(active, plans["big"], "19.99")
        second = change_to(active, plans["big"], "19.99")

    assert first.pk == second.pk
    assert PlanChange.objects.count() == 1
    assert BillingEvent.objects.filter(action="plan_change_requested").count() == 1


def test_a_downgrade_asked_twice_credits_once(active, plans, customer):
    with at("2027-01-20"):
        first = change_to(active, plans["small"], "4.99")
        second = change_to(active, plans["small"], "4.99")

    assert first.pk == second.pk
    assert credit_balance(customer) == Decimal("3.39")


def test_another_plan_while_one_waits_replaces_it(active, plans, product_for):
    other = product_for(name="VPN 1000", download_mbps=1000)
    with at("2027-01-20"):
        first = change_to(active, plans["big"], "19.99")
        second = change_to(active, other, "29.99")

    first.refresh_from_db()
    assert first.status == PlanChangeStatus.CANCELLED
    assert first.invoice.status == InvoiceStatus.CANCELLED
    assert second.status == PlanChangeStatus.PENDING


def test_a_change_paid_in_part_by_credit_only_is_replaced_and_the_credit_returned(
    active, plans, customer, product_for
):
    other = product_for(name="VPN 1000", download_mbps=1000)
    with at("2027-01-20"):
        CreditEntry.objects.create(customer=customer, amount=Decimal("2.00"), reason="Goodwill")
        first = change_to(active, plans["big"], "19.99")  # 6.77 due, 2.00 of it from credit
        assert first.invoice.amount_paid == Decimal("2.00")
        assert credit_balance(customer) == 0
        second = change_to(active, other, "29.99")

    first.refresh_from_db()
    assert (first.status, first.invoice.status) == (
        PlanChangeStatus.CANCELLED,
        InvoiceStatus.CANCELLED,
    )
    assert second.status == PlanChangeStatus.PENDING
    # The 2.00 came back to credit, which paid the new change's invoice at once.
    assert second.invoice.amount_paid == Decimal("2.00")
    assert credit_balance(customer) == 0


def test_a_change_with_gateway_money_on_it_is_not_replaced(active, plans, product_for):
    other = product_for(name="VPN 1000", download_mbps=1000)
    with at("2027-01-20"):
        first = change_to(active, plans["big"], "19.99")
        payment_record(
            invoice=first.invoice, amount=Decimal("1.00"), gateway="bank_transfer",
            reference="bank-part", actor=None,
        )  # fmt: skip
        with pytest.raises(BillingRefused, match="being paid"):
            change_to(active, other, "29.99")

    first.refresh_from_db()
    assert first.status == PlanChangeStatus.PENDING


def test_a_cancelled_invoice_cancels_its_change(active, plans):
    with at("2027-01-20"):
        change = change_to(active, plans["big"], "19.99")
        invoice_cancel(invoice=change.invoice, actor=None, reason="changed my mind")

    change.refresh_from_db()
    assert change.status == PlanChangeStatus.CANCELLED
    active.refresh_from_db()
    assert active.recurring_price == Decimal("9.99")


def test_the_daily_run_expires_a_change_unpaid_at_the_end_of_its_period(active, plans):
    with at("2027-02-05"):
        change = change_to(active, plans["big"], "19.99")
        assert change.invoice.due_at.date() == date(2027, 2, 9)  # within the paid time
        assert plan_changes_run() == {"applied": 0, "expired": 0}
    with at("2027-02-10"):
        assert plan_changes_run() == {"applied": 0, "expired": 1}
        assert plan_changes_run() == {"applied": 0, "expired": 0}

    change.refresh_from_db()
    assert change.status == PlanChangeStatus.CANCELLED


def test_no_renewal_while_an_upgrade_waits_for_payment_then_at_the_new_price(active, plans):
    with at("2027-01-20"):
        change = change_to(active, plans["big"], "19.99")
    with at("2027-02-03"):  # renewal day: paid first, it would move the period and void the change
        assert renewals_issue() == []
    with at("2027-02-05"):
        pay(change.invoice, "bank-upgrade")
        change.refresh_from_db()
        assert change.status == PlanChangeStatus.APPLIED
        [renewal] = renewals_issue()

    assert renewal.period_start == date(2027, 2, 10)
    assert renewal.invoice.total == Decimal("19.99")
    assert renewal.invoice.due_at.date() == date(2027, 2, 12)  # issued late: 7 days to pay


def test_an_upgrade_never_paid_expires_then_the_renewal_is_issued_at_the_old_price(active, plans):
    with at("2027-02-05"):
        change_to(active, plans["big"], "19.99")
        assert renewals_issue() == []
    with at("2027-02-10"):
        assert plan_changes_run() == {"applied": 0, "expired": 1}
        [renewal] = renewals_issue()

    assert renewal.period_start == date(2027, 2, 10)
    assert renewal.invoice.total == Decimal("9.99")
    assert renewal.invoice.due_at.date() == date(2027, 2, 17)


def test_a_paid_change_the_service_was_busy_for_is_applied_by_the_daily_run(active, plans):
    with at("2027-01-20"):
        change = change_to(active, plans["big"], "19.99")
        Service.objects.filter(pk=active.service_id).update(pending_action=ServiceAction.SUSPEND)
        pay(change.invoice, "bank-upgrade")
        change.refresh_from_db()
        assert change.status == PlanChangeStatus.PENDING  # paid, waiting for the service
        assert plan_changes_run() == {"applied": 0, "expired": 0}
        Service.objects.filter(pk=active.service_id).update(pending_action="")
        assert plan_changes_run() == {"applied": 1, "expired": 0}

    change.refresh_from_db()
    assert change.status == PlanChangeStatus.APPLIED


def test_a_paid_change_whose_period_moved_is_cancelled_and_credited(active, plans, customer):
    with at("2027-01-20"):
        change = change_to(active, plans["big"], "19.99")
        Subscription.objects.filter(pk=active.pk).update(next_due_date=date(2027, 3, 10))
        pay(change.invoice, "bank-upgrade")

    change.refresh_from_db()
    assert change.status == PlanChangeStatus.CANCELLED
    assert credit_balance(customer) == change.invoice.total
    assert Service.objects.get(pk=active.service_id).pending_product_id is None


def test_a_renewal_paid_ahead_is_prorated_as_a_whole_period(active, plans, customer):
    with at("2027-02-03"):
        [renewal] = renewals_issue()
        pay(renewal.invoice, "bank-renewal")  # paid to 10 Mar
    with at("2027-02-05"):
        active.refresh_from_db()
        quote = plan_change_quote(subscription=active, recurring_price=Decimal("19.99"))
        change = change_to(active, plans["big"], "19.99")

    # 5 of 31 days of January's period left, then all 28 days of February's.
    assert [(p.days_left, p.days_in_period) for *_, p in quote.periods] == [(5, 31), (28, 28)]
    assert (change.days_left, change.credit, change.charge) == (
        33,
        Decimal("1.61") + Decimal("9.99"),
        Decimal("3.22") + Decimal("19.99"),
    )
    assert change.invoice.lines.count() == 4


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("suspended", "Only an active service can change plan."),
        ("busy", "is still in progress"),
        ("same", "This service is on VPN 100 already."),
        ("renewal", "Please pay invoice"),
        ("cancelling", "withdraw the cancellation"),
    ],
)
def test_refusals_change_nothing(active, plans, product, setup, message):
    target = plans["big"]
    with at("2027-02-05"):
        if setup == "suspended":
            Service.objects.filter(pk=active.service_id).update(status=ServiceStatus.SUSPENDED)
        if setup == "busy":
            Service.objects.filter(pk=active.service_id).update(
                pending_action=ServiceAction.SUSPEND
            )
        if setup == "same":
            target = product
        if setup == "renewal":
            renewals_issue()
        if setup == "cancelling":
            CancellationRequest.objects.create(
                subscription=active, when="end_of_period", terminate_on=date(2027, 2, 10)
            )
        with pytest.raises(BillingRefused, match=message):
            change_to(active, target, "19.99")

    assert not PlanChange.objects.exists()
    assert not BillingEvent.objects.filter(action__startswith="plan_change").exists()


def test_the_paid_time_over_is_refused(active, plans):
    with at("2027-02-10"), pytest.raises(BillingRefused, match="paid time ended on 10 Feb 2027"):
        change_to(active, plans["big"], "19.99")


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    cycle=st.sampled_from(list(MONTHS)),
)
def test_taking_a_cycle_back_is_the_inverse_of_adding_one(start, cycle):
    anchor = start.day
    due = add_cycle(start, cycle, anchor_day=anchor)
    assert subtract_cycle(due, cycle, anchor_day=anchor) == start
    later = add_cycle(due, cycle, anchor_day=anchor)
    assert subtract_cycle(later, cycle, anchor_day=anchor) == due


def test_taking_a_month_back_from_february_returns_to_the_31st():
    assert subtract_cycle(date(2028, 2, 29), "monthly", anchor_day=31) == date(2028, 1, 31)
    assert subtract_cycle(date(2027, 3, 31), "monthly", anchor_day=31) == date(2027, 2, 28)
    assert subtract_cycle(date(2027, 1, 31), "annual", anchor_day=31) == date(2026, 1, 31)

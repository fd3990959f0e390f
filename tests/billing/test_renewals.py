"""Renewals over time (time-machine moves the one clock): each period invoiced once,
BILLING_RENEWAL_DAYS_BEFORE days ahead and due on the due date; paying moves the due date on by
exactly one cycle, anchored on the day the service was first paid (31 Jan → 28/29 Feb → 31 Mar);
credit pays at once; the daily run repeated issues nothing twice."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from portal.billing.models import CreditEntry, InvoiceStatus, Renewal, Subscription
from portal.billing.services import LineSpec, invoice_cancel, invoice_create, payment_record
from portal.billing.services.renewals import renewals_issue
from provisioning.models import ServiceStatus
from tests.billing.helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


def order_paid(customer, product, cycle="monthly"):
    line = LineSpec(
        description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=product,
        cycle=cycle, recurring_price=Decimal("9.99"),
    )  # fmt: skip
    invoice = invoice_create(customer=customer, lines=[line], actor=None)
    pay(invoice)
    subscription = Subscription.objects.get(customer=customer)
    subscription.service.__class__.objects.filter(pk=subscription.service_id).update(
        status=ServiceStatus.ACTIVE
    )
    return subscription


def pay(invoice):
    payment_record(
        invoice=invoice, amount=invoice.balance_due, gateway="bank_transfer",
        reference=f"bank-{invoice.pk}", actor=None,
    )  # fmt: skip


def test_a_renewal_is_issued_days_before_the_due_date_once_and_paying_it_extends_one_cycle(
    customer, product, settings
):
    settings.BILLING_RENEWAL_DAYS_BEFORE = 7
    with at("2027-01-31"):
        subscription = order_paid(customer, product)
    assert (subscription.anchor_day, subscription.next_due_date) == (31, date(2027, 2, 28))

    with at("2027-02-20"):
        assert renewals_issue() == []  # eight days before
    with at("2027-02-21"):
        [renewal] = renewals_issue()
        assert renewals_issue() == []  # the same day again
    with at("2027-02-22"):
        assert renewals_issue() == []  # the next day, still unpaid

    invoice = renewal.invoice
    assert (renewal.period_start, renewal.period_end) == (date(2027, 2, 28), date(2027, 3, 31))
    assert invoice.due_at == datetime(2027, 2, 28, tzinfo=timezone.get_current_timezone())
    assert invoice.lines.get().description == (
        f"VPN 100 (monthly), service #{subscription.service_id}: 28 Feb 2027 to 30 Mar 2027"
    )
    assert invoice.total == Decimal("9.99")
    assert invoice.status == InvoiceStatus.UNPAID

    with at("2027-02-25"):
        pay(invoice)
        pay(invoice)  # a payment recorded twice moves the date once

    subscription.refresh_from_db()
    assert subscription.next_due_date == date(2027, 3, 31)
    assert customer.services.count() == 1  # a renewal orders no new service


@pytest.mark.parametrize(
    ("first_paid", "due_dates"),
    [
        ("2027-01-31", ["2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31"]),
        ("2028-01-31", ["2028-02-29", "2028-03-31", "2028-04-30", "2028-05-31"]),
        ("2028-02-29", ["2028-03-29", "2028-04-29", "2028-05-29", "2028-06-29"]),
        ("2027-03-15", ["2027-04-15", "2027-05-15", "2027-06-15", "2027-07-15"]),
    ],
)
def test_month_ends_follow_the_first_day_paid(customer, product, first_paid, due_dates):
    with at(first_paid):
        subscription = order_paid(customer, product)
    seen = [subscription.next_due_date.isoformat()]
    for _ in range(3):
        with at(subscription.next_due_date.isoformat()):
            [renewal] = renewals_issue()
            pay(renewal.invoice)
        subscription.refresh_from_db()
        seen.append(subscription.next_due_date.isoformat())

    assert seen == due_dates


def test_a_year_of_daily_runs_issues_twelve_renewals_each_once(customer, product):
    with at("2027-01-31"):
        subscription = order_paid(customer, product)
    day = date(2027, 1, 31)
    while day < date(2028, 1, 25):
        day = day.fromordinal(day.toordinal() + 1)
        with at(day.isoformat()):
            for renewal in renewals_issue() + renewals_issue():  # the daily task, run twice
                pay(renewal.invoice)

    subscription.refresh_from_db()
    starts = list(Renewal.objects.values_list("period_start", flat=True))
    assert len(starts) == len(set(starts)) == 12
    assert subscription.next_due_date == date(2028, 2, 29)


def test_credit_pays_the_renewal_at_once(customer, product):
    with at("2027-03-15"):
        subscription = order_paid(customer, product)
        CreditEntry.objects.create(customer=customer, amount=Decimal("20.00"), reason="gift")
    with at("2027-04-08"):
        [renewal] = renewals_issue()

    renewal.invoice.refresh_from_db()
    subscription.refresh_from_db()
    assert renewal.invoice.status == InvoiceStatus.PAID
    assert subscription.next_due_date == date(2027, 5, 15)


@pytest.mark.parametrize(
    ("status", "renewed"),
    [
        (ServiceStatus.SUSPENDED, True),
        (ServiceStatus.TERMINATED, False),
        (ServiceStatus.FAILED, False),
    ],
)
def test_suspended_services_are_still_renewed_ended_ones_not(customer, product, status, renewed):
    with at("2027-03-15"):
        subscription = order_paid(customer, product)
    subscription.service.__class__.objects.filter(pk=subscription.service_id).update(status=status)

    with at("2027-04-10"):
        assert len(renewals_issue()) == int(renewed)


def test_a_cancelled_renewal_is_invoiced_again_and_a_late_one_gives_the_usual_time_to_pay(
    customer, product, settings
):
    settings.BILLING_RENEWAL_DAYS_BEFORE = 7
    with at("2027-03-15"):
        subscription = order_paid(customer, product)
    with at("2027-04-20"):  # the task did not run for weeks: the renewal comes late
        [first] = renewals_issue()
        invoice_cancel(invoice=first.invoice, actor=None, reason="wrong price")
    with at("2027-04-21"):
        [second] = renewals_issue()
        assert renewals_issue() == []

    first.refresh_from_db()
    assert first.superseded
    assert (second.period_start, second.invoice_id != first.invoice_id) == (
        date(2027, 4, 15),
        True,
    )
    assert second.invoice.due_at == datetime(2027, 4, 28, tzinfo=timezone.get_current_timezone())
    assert subscription.renewals.filter(superseded=False).count() == 1


def test_the_renewal_email_says_which_service_renews_when_and_for_which_period(
    customer, product, settings
):
    settings.BILLING_RENEWAL_DAYS_BEFORE = 7
    with at("2027-01-31"):
        subscription = order_paid(customer, product)
    mail.outbox.clear()
    with at("2027-02-21"):
        [renewal] = renewals_issue()

    [message] = [m for m in mail.outbox if "renews" in m.subject]
    assert message.subject == (
        f"Your VPN service #{subscription.service_id} renews on 28 Feb 2027: "
        f"invoice {renewal.invoice}: 9.99 EUR due 28 Feb 2027"
    )
    assert "next period, 28 Feb 2027 to 30 Mar 2027: pay it by then" in message.body


def test_days_are_the_providers_calendar_days_in_its_time_zone(customer, product, settings):
    """In Auckland (UTC+13 in February) 20 Feb 12:00 UTC is already 21 Feb: the renewal due on
    28 Feb is issued then, due at Auckland's midnight of 28 Feb."""
    settings.TIME_ZONE = "Pacific/Auckland"
    settings.BILLING_RENEWAL_DAYS_BEFORE = 7
    with time_machine.travel(datetime.fromisoformat("2027-01-30T12:00:00+00:00"), tick=False):
        subscription = order_paid(customer, product)  # 31 Jan in Auckland
    assert (subscription.anchor_day, subscription.next_due_date) == (31, date(2027, 2, 28))

    with time_machine.travel(datetime.fromisoformat("2027-02-20T10:00:00+00:00"), tick=False):
        assert renewals_issue() == []  # 20 Feb 23:00 in Auckland: eight days before
    with time_machine.travel(datetime.fromisoformat("2027-02-20T12:00:00+00:00"), tick=False):
        [renewal] = renewals_issue()  # 21 Feb 01:00 in Auckland

    assert renewal.invoice.due_at == datetime.fromisoformat("2027-02-27T11:00:00+00:00")

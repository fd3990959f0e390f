"""Overdue reminders (dunning's first step): BILLING_OVERDUE_REMINDER_DAYS after the due date,
each step once — the daily task run twice, or a few days late, sends each reminder once — and
none once the invoice is paid."""

from datetime import datetime
from decimal import Decimal

import pytest

from portal.billing.services import LineSpec, invoice_create, payment_record
from portal.billing.services.dunning import overdue_reminders_send
from portal.notifications.models import EmailRecord
from portal.notifications.payload import text_body
from tests.billing.helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


@pytest.fixture(autouse=True)
def recorded_email(settings) -> None:
    settings.EMAIL_BACKEND = "portal.notifications.backends.QueuedEmailBackend"
    settings.PORTAL_BASE_URL = "https://shop.example.com"


@pytest.fixture
def invoice(customer, settings):
    settings.BILLING_OVERDUE_REMINDER_DAYS = [1, 3, 7]
    line = LineSpec(
        description="VPN 100, service #1: 10 Mar 2027 to 9 Apr 2027", unit_price=Decimal("9.99")
    )
    with at("2027-03-03"):
        return invoice_create(
            customer=customer, lines=[line], actor=None,
            due_at=datetime.fromisoformat("2027-03-10T00:00:00+00:00"),
        )  # fmt: skip


def reminders():
    return list(EmailRecord.objects.filter(kind="invoice_overdue").order_by("id"))


def run_on(day: str, times: int = 1) -> list[int]:
    with at(day):
        return [overdue_reminders_send() for _ in range(times)]


def test_each_step_is_reminded_once_on_its_day(invoice):
    assert run_on("2027-03-10") == [0]  # due today: not overdue yet
    assert run_on("2027-03-11", times=2) == [1, 0]
    assert run_on("2027-03-12") == [0]
    assert run_on("2027-03-13") == [1]

    [first, second] = reminders()
    assert first.subject == f"Reminder: invoice {invoice} (9.99 EUR) was due 10 Mar 2027"
    assert first.to == "alice@example.com"
    assert (first.object_type, first.object_id) == ("billing.invoice", str(invoice.pk))
    assert second.once_key == f"invoice_overdue:invoice:{invoice.pk}:3"


def test_a_late_run_sends_the_latest_step_reached_only(invoice):
    assert run_on("2027-03-20") == [1]  # ten days overdue: step 7, not 1 and 3 as well
    assert run_on("2027-03-21") == [0]

    assert [record.once_key for record in reminders()] == [
        f"invoice_overdue:invoice:{invoice.pk}:7"
    ]


def test_a_paid_invoice_is_not_reminded(invoice):
    payment_record(
        invoice=invoice, amount=invoice.total, gateway="bank_transfer", reference="b-1",
        actor=None,
    )  # fmt: skip

    assert run_on("2027-03-11") == [0]
    assert reminders() == []


def test_the_mail_says_how_late_how_much_and_where_to_pay(invoice):
    run_on("2027-03-13")

    text = text_body(reminders()[0].message)
    assert f"your invoice {invoice} was due on 10 Mar 2027" in text
    assert "9.99 EUR of it is still open (3 days overdue)" in text
    assert f"https://shop.example.com/billing/invoices/{invoice.pk}/" in text


def test_an_invoice_long_overdue_is_no_longer_looked_at(invoice):
    assert run_on("2027-03-24") == [1]  # 14 days: the last step (7) plus a week to catch up
    assert run_on("2027-03-25") == [0]
    EmailRecord.objects.all().delete()

    assert run_on("2027-03-25") == [0]  # not tried again, though its record is gone

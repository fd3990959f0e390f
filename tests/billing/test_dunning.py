"""Dunning against the simulator, over time (time-machine moves the clock; the worker's runs are
made in-process, so the test decides when each happens): unpaid → reminded → suspended on the
panel → paid → unsuspended; never paid → terminated, its client deleted, its invoice cancelled;
a payment that lands while the suspension is in flight still ends active; an admin's suspension
is not undone by a payment."""

import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from portal.billing import tasks
from portal.billing.models import BillingEvent, InvoiceStatus, Renewal, Subscription
from portal.billing.services import (
    LineSpec,
    credit_balance,
    dunning,
    invoice_cancel,
    invoice_create,
    payment_record,
)
from portal.billing.services.dunning import (
    ended_services_renewals_cancel,
    overdue_reminders_send,
    overdue_services_suspend,
    overdue_services_terminate,
    paid_service_restore,
    paid_services_restore,
    suspension_exempt,
)
from portal.billing.services.payments import RESTORE_TASK
from portal.billing.services.renewals import renewals_issue
from portal.notifications.models import EmailRecord
from portal.notifications.payload import text_body
from provisioning import services
from provisioning.models import ServiceStatus
from tests.billing.helpers import at, pay
from tests.services import postgresql_or_skip
from vpnpanel import PanelClient

# Transactions commit as in production (the runner claims and leases in its own); sent_tasks
# keeps the queued work from the session's worker, so only the test runs it.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sent_tasks")]


def run_worker(service) -> None:
    services.service_run_pending_action(service_id=service.pk)
    service.refresh_from_db()


@pytest.fixture
def vpn(customer, simulator, server_for, product_for, settings):
    """A monthly service first paid on 10 Jan 2027, active with its client on the simulator;
    its renewal for 10 Feb issued on 3 Feb."""
    settings.BILLING_RENEWAL_DAYS_BEFORE = 7
    settings.BILLING_OVERDUE_REMINDER_DAYS = [1, 3]
    settings.BILLING_SUSPEND_AFTER_DAYS = 5
    settings.BILLING_TERMINATE_AFTER_DAYS = 30
    settings.EMAIL_BACKEND = "portal.notifications.backends.QueuedEmailBackend"
    settings.PORTAL_BASE_URL = "https://shop.example.com"
    product = product_for((server_for(simulator), "office"), name="VPN 100")
    line = LineSpec(
        description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=product,
        cycle="monthly",
    )  # fmt: skip
    with at("2027-01-10"):
        pay(invoice_create(customer=customer, lines=[line], actor=None), "bank-order")
        subscription = Subscription.objects.get(customer=customer)
        run_worker(subscription.service)
    with at("2027-02-03"):
        [renewal] = renewals_issue()
    assert subscription.service.status == ServiceStatus.ACTIVE
    return subscription.service, renewal.invoice


def on_panel(simulator, service):
    clients = PanelClient(simulator.url, simulator.token).clients()
    return {client.name: client.status for client in clients}.get(service.remote_name)


def test_unpaid_is_reminded_then_suspended_on_the_panel_then_paid_and_unsuspended(
    vpn, simulator, sent_tasks
):
    service, invoice = vpn
    with at("2027-02-11"):
        assert overdue_reminders_send() == 1
    with at("2027-02-14"):
        assert overdue_services_suspend() == 0  # four days overdue
    with at("2027-02-15"):
        assert overdue_services_suspend() == 1
        assert overdue_services_suspend() == 0  # the same day again
        run_worker(service)
    assert service.status == ServiceStatus.SUSPENDED
    assert on_panel(simulator, service) == "disable"
    [notice] = EmailRecord.objects.filter(kind="service_suspended")
    text = text_body(notice.message)
    assert notice.subject == (
        f"Your VPN service #{service.pk} is suspended: invoice {invoice} is unpaid"
    )
    assert f"https://shop.example.com/billing/invoices/{invoice.pk}/" in text
    assert "terminated on 12 Mar 2027" in text

    with at("2027-02-16"):
        pay(invoice, "bank-renewal")
        [(subscription_id,)] = sent_tasks.named(RESTORE_TASK)
        assert paid_service_restore(subscription_id=subscription_id) == "restored"
        run_worker(service)

    assert service.status == ServiceStatus.ACTIVE
    assert on_panel(simulator, service) == "enable"
    assert Subscription.objects.get().next_due_date.isoformat() == "2027-03-10"


def test_never_paid_is_terminated_with_its_client_deleted_and_its_invoice_cancelled(vpn, simulator):
    service, invoice = vpn
    with at("2027-02-15"):
        overdue_services_suspend()
        run_worker(service)
    with at("2027-03-11"):
        assert overdue_services_terminate() == 0  # 29 days
    with at("2027-03-12"):
        assert overdue_services_terminate() == 1
        run_worker(service)

    invoice.refresh_from_db()
    assert service.status == ServiceStatus.TERMINATED
    assert on_panel(simulator, service) is None
    assert invoice.status == InvoiceStatus.CANCELLED
    [notice] = EmailRecord.objects.filter(kind="service_terminated")
    assert f"service #{service.pk} (VPN 100 (monthly)) has been terminated" in text_body(
        notice.message
    )
    with at("2027-03-13"):
        assert overdue_services_terminate() == 0
        assert renewals_issue() == []  # a terminated service is not renewed


def test_a_payment_while_the_suspension_is_in_flight_ends_active(vpn, simulator, sent_tasks):
    service, invoice = vpn
    with at("2027-02-15"):
        assert overdue_services_suspend() == 1  # queued; the worker has not run it yet
        pay(invoice, "bank-renewal")
        [(subscription_id,)] = sent_tasks.named(RESTORE_TASK)
        assert paid_service_restore(subscription_id=subscription_id) == "wait"
        run_worker(service)  # the suspension reaches the panel
        assert paid_service_restore(subscription_id=subscription_id) == "restored"
        run_worker(service)

    assert service.status == ServiceStatus.ACTIVE
    assert on_panel(simulator, service) == "enable"


def test_a_payment_that_lands_before_the_run_wins(vpn):
    service, invoice = vpn
    with at("2027-02-15"):
        pay(invoice, "bank-renewal")
        assert overdue_services_suspend() == 0

    service.refresh_from_db()
    assert (service.status, service.pending_action) == (ServiceStatus.ACTIVE, "")


def test_an_admin_suspension_is_not_undone_by_paying(vpn, sent_tasks, staff):
    service, invoice = vpn
    with at("2027-02-12"):
        services.service_suspend(service=service, actor=staff, reason="abuse report")
        run_worker(service)
        pay(invoice, "bank-renewal")

    assert sent_tasks.named(RESTORE_TASK) == []
    assert service.status == ServiceStatus.SUSPENDED


def test_the_terminate_step_checks_the_exemption_again_under_its_lock(vpn, staff):
    """An admin's exemption that commits after the run picked the renewal."""
    service, invoice = vpn
    with at("2027-03-12"):
        suspension_exempt(
            subscription=service.subscription, until=date(2027, 3, 20), actor=staff,
            reason="paying by cheque",
        )  # fmt: skip
        terminated = dunning._terminate(invoice.renewal.pk, date(2027, 3, 12))

    service.refresh_from_db()
    assert terminated is False
    assert service.pending_action == ""


def test_the_suspend_step_checks_the_invoice_again_under_its_lock(vpn):
    """A payment that commits after the run picked the renewal, before it locked the invoice."""
    service, invoice = vpn
    with at("2027-02-15"):
        pay(invoice, "bank-renewal")
        suspended = dunning._suspend(invoice.renewal.pk, date(2027, 2, 15))

    service.refresh_from_db()
    assert suspended is False
    assert (service.status, service.pending_action) == (ServiceStatus.ACTIVE, "")


def test_a_payment_committed_while_the_run_suspends_ends_active_on_postgresql(
    vpn, simulator, sent_tasks, monkeypatch
):
    """The run holds the invoice's lock while it asks for the suspension; the payment, made at
    that moment from another connection, waits for it, commits after it, and restores."""
    postgresql_or_skip()
    service, invoice = vpn
    suspending, errors = threading.Event(), []
    real_suspend = dunning.service_suspend

    def suspend_slowly(**kwargs):
        result = real_suspend(**kwargs)
        suspending.set()
        time.sleep(0.5)  # the payer is now waiting on the invoice's lock
        return result

    def payer() -> None:
        try:
            suspending.wait(timeout=10)
            pay(invoice, "bank-renewal")
        except Exception as exc:  # every failure is the finding
            errors.append(repr(exc))
        finally:
            connection.close()

    monkeypatch.setattr(dunning, "service_suspend", suspend_slowly)
    with at("2027-02-15"):
        thread = threading.Thread(target=payer)
        thread.start()
        assert overdue_services_suspend() == 1
        thread.join(timeout=30)
        assert errors == []
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
        run_worker(service)  # the suspension the run asked for
        [(subscription_id,)] = sent_tasks.named(RESTORE_TASK)
        assert paid_service_restore(subscription_id=subscription_id) == "restored"
        run_worker(service)

    assert service.status == ServiceStatus.ACTIVE
    assert on_panel(simulator, service) == "enable"


def test_an_exempt_service_is_not_suspended_until_its_date_and_the_exemption_is_audited(
    vpn, admin_client
):
    subscription = Subscription.objects.get()
    response = admin_client.post(
        reverse("admin:billing_subscription_exempt", args=[subscription.pk]),
        {"until": "2027-02-20", "reason": "pays by purchase order"},
    )
    assert response.status_code == 302

    with at("2027-02-15"):
        assert overdue_services_suspend() == 0
    with at("2027-02-21"):
        assert overdue_services_suspend() == 1

    event = BillingEvent.objects.get(action="suspension_exempted")
    assert (event.actor.is_superuser, event.data["until"], event.data["reason"]) == (
        True,
        "2027-02-20",
        "pays by purchase order",
    )


def test_a_termination_under_way_is_never_undone_and_part_payment_goes_to_credit(vpn):
    service, invoice = vpn
    with at("2027-02-15"):
        overdue_services_suspend()
        run_worker(service)
    with at("2027-03-01"):
        payment_record(
            invoice=invoice, amount=Decimal("2.00"), gateway="bank_transfer", reference="part",
            actor=None,
        )  # fmt: skip
    with at("2027-03-12"):
        assert overdue_services_terminate() == 1  # queued; the panel not asked yet
        assert paid_services_restore() == 0
        assert renewals_issue() == []

    invoice.refresh_from_db()
    service.refresh_from_db()
    assert (service.pending_action, invoice.status) == ("terminate", InvoiceStatus.CANCELLED)
    assert credit_balance(invoice.customer) == Decimal("2.00")
    assert Subscription.objects.get().suspended_for is None


def test_an_admin_suspension_pending_when_dunning_runs_is_left_to_the_admin(vpn, sent_tasks, staff):
    service, invoice = vpn
    with at("2027-02-15"):
        services.service_suspend(service=service, actor=staff, reason="abuse report")
        assert overdue_services_suspend() == 0  # something else is asked of it
        run_worker(service)
        pay(invoice, "bank-renewal")

    assert sent_tasks.named(RESTORE_TASK) == []
    assert Subscription.objects.get().suspended_for is None
    service.refresh_from_db()
    assert service.status == ServiceStatus.SUSPENDED


def test_the_unpaid_renewal_of_a_service_an_admin_terminated_is_cancelled_not_chased(vpn, staff):
    service, invoice = vpn
    with at("2027-02-05"):
        services.service_terminate(service=service, actor=staff, reason="customer left")
        run_worker(service)
    with at("2027-02-11"):
        ended_services_renewals_cancel()
        assert overdue_reminders_send() == 0

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CANCELLED


def test_paying_the_period_invoiced_again_restores_the_service(vpn, simulator, sent_tasks, staff):
    """Suspended for a renewal whose invoice an admin then cancelled (to correct it): the
    next run invoices the period again, and paying that one restores the service."""
    service, invoice = vpn
    with at("2027-02-15"):
        assert overdue_services_suspend() == 1
        run_worker(service)
        invoice_cancel(invoice=invoice, actor=staff, reason="wrong price")
        [again] = renewals_issue()
    with at("2027-02-16"):
        pay(again.invoice, "bank-again")
        [(subscription_id,)] = sent_tasks.named(RESTORE_TASK)
        assert paid_service_restore(subscription_id=subscription_id) == "restored"
        run_worker(service)

    assert (again.period_start, again.invoice_id != invoice.pk) == (date(2027, 2, 10), True)
    assert service.status == ServiceStatus.ACTIVE
    assert on_panel(simulator, service) == "enable"
    assert Subscription.objects.get().suspended_for is None


def test_the_daily_safety_net_restores_a_period_paid_by_its_reissued_invoice(vpn, staff):
    service, invoice = vpn
    with at("2027-02-15"):
        overdue_services_suspend()
        run_worker(service)
        invoice_cancel(invoice=invoice, actor=staff, reason="wrong price")
        [again] = renewals_issue()
        pay(again.invoice, "bank-again")  # its restore task lost
    with at("2027-02-16"):
        assert paid_services_restore() == 1
        assert paid_services_restore() == 0

    service.refresh_from_db()
    assert service.pending_action == "unsuspend"


def test_a_renewal_paid_after_its_service_ended_is_credited_not_extended(vpn, staff):
    service, invoice = vpn
    with at("2027-02-05"):
        services.service_terminate(service=service, actor=staff, reason="customer left")
        run_worker(service)
        pay(invoice, "bank-late")  # before the daily run cancelled it

    assert invoice.status == InvoiceStatus.PAID
    assert Subscription.objects.get().next_due_date == date(2027, 2, 10)
    assert credit_balance(invoice.customer_id) == invoice.total
    assert invoice.customer.credit_entries.get().reason == (
        f"Renewal of service #{service.pk} paid after it ended ({invoice.number})"
    )


def test_a_year_of_one_service_on_the_simulator(vpn, simulator, sent_tasks):
    """Renewals paid on time, one paid late (reminded, suspended on the panel, paid,
    unsuspended), the last never paid (terminated, its client deleted) — one run a day."""
    service, first_renewal = vpn
    with at("2027-02-03"):
        pay(first_renewal, "bank-february")
    late, never = date(2027, 5, 10), date(2027, 12, 10)
    statuses: dict[str, str] = {}
    day = date(2027, 2, 3)
    while day <= date(2028, 1, 20):
        with at(day.isoformat()):
            for renewal in renewals_issue():
                if renewal.period_start not in (late, never):
                    pay(renewal.invoice, f"bank-{renewal.pk}")
            if day == date(2027, 5, 16):
                pay(Renewal.objects.get(period_start=late).invoice, "bank-late")
            for (subscription_id,) in sent_tasks.named(RESTORE_TASK):
                paid_service_restore(subscription_id=subscription_id)
            sent_tasks.sent.clear()
            overdue_reminders_send()
            overdue_services_suspend()
            overdue_services_terminate()
            service.refresh_from_db()
            if service.pending_action:
                run_worker(service)
        statuses[day.isoformat()] = service.status
        day = date.fromordinal(day.toordinal() + 1)

    assert statuses["2027-05-14"] == statuses["2027-05-16"] == ServiceStatus.ACTIVE
    assert statuses["2027-05-15"] == ServiceStatus.SUSPENDED
    assert statuses["2027-12-15"] == ServiceStatus.SUSPENDED
    assert statuses["2028-01-09"] == ServiceStatus.TERMINATED
    assert on_panel(simulator, service) is None
    starts = list(Renewal.objects.values_list("period_start", flat=True))
    assert len(starts) == 11
    assert (starts[0], starts[-1]) == (date(2027, 2, 10), never)
    reminders = EmailRecord.objects.filter(kind="invoice_overdue").count()
    assert reminders == 4  # 1 and 3 days after the late and the never-paid due dates


def test_a_failing_step_does_not_stop_the_rest_of_the_daily_run(vpn, monkeypatch, caplog):
    def broken() -> int:
        raise RuntimeError("a broken row")

    monkeypatch.setattr(tasks, "paid_services_restore", broken)
    with at("2027-02-15"):
        done = tasks.run_dunning()

    assert done["restored"] == "failed"
    assert (done["reminded"], done["suspended"]) == (1, 1)
    assert "Dunning step restored failed" in caplog.text


def test_a_leap_year_through_the_daily_tasks_each_run_twice(
    customer, simulator, server_for, product_for, settings, sent_tasks
):
    """First paid on 31 Jan 2028: due on 29 Feb, then back on the 31st where the month has
    one. Each day the beat's two tasks run twice; the June renewal is paid six days late
    (suspended on the panel on day 5, restored on payment), the December one never (its client
    deleted after 30 days)."""
    settings.BILLING_RENEWAL_DAYS_BEFORE = 7
    settings.BILLING_OVERDUE_REMINDER_DAYS = [1, 3]
    settings.BILLING_SUSPEND_AFTER_DAYS = 5
    settings.BILLING_TERMINATE_AFTER_DAYS = 30
    settings.EMAIL_BACKEND = "portal.notifications.backends.QueuedEmailBackend"
    product = product_for((server_for(simulator), "office"), name="VPN 100")
    line = LineSpec(
        description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=product,
        cycle="monthly",
    )  # fmt: skip
    with at("2028-01-31"):
        pay(invoice_create(customer=customer, lines=[line], actor=None), "bank-order")
        subscription = Subscription.objects.get(customer=customer)
        service = subscription.service
        run_worker(service)
    late, never = date(2028, 6, 30), date(2028, 12, 31)
    statuses: dict[str, str] = {}
    day = date(2028, 2, 1)
    while day <= date(2029, 2, 5):
        with at(day.isoformat()):
            for _ in range(2):
                tasks.issue_renewals()
            for renewal in Renewal.objects.filter(invoice__status=InvoiceStatus.UNPAID):
                if renewal.period_start not in (late, never):
                    pay(renewal.invoice, f"bank-{renewal.pk}")
            if day == date(2028, 7, 6):
                pay(Renewal.objects.get(period_start=late).invoice, "bank-late")
            for (subscription_id,) in sent_tasks.named(RESTORE_TASK):
                paid_service_restore(subscription_id=subscription_id)
            sent_tasks.sent.clear()
            for _ in range(2):
                tasks.run_dunning()
            service.refresh_from_db()
            if service.pending_action:
                run_worker(service)
        statuses[day.isoformat()] = service.status
        day += timedelta(days=1)

    starts = list(Renewal.objects.values_list("period_start", flat=True))
    assert [d.isoformat() for d in starts] == [
        "2028-02-29", "2028-03-31", "2028-04-30", "2028-05-31", "2028-06-30", "2028-07-31",
        "2028-08-31", "2028-09-30", "2028-10-31", "2028-11-30", "2028-12-31",
    ]  # fmt: skip
    assert statuses["2028-07-04"] == statuses["2028-07-06"] == ServiceStatus.ACTIVE
    assert statuses["2028-07-05"] == ServiceStatus.SUSPENDED
    assert statuses["2029-01-05"] == statuses["2029-01-29"] == ServiceStatus.SUSPENDED
    assert statuses["2029-01-30"] == ServiceStatus.TERMINATED
    assert on_panel(simulator, service) is None
    assert EmailRecord.objects.filter(kind="invoice_overdue").count() == 4
    assert EmailRecord.objects.filter(kind="service_suspended").count() == 2
    assert EmailRecord.objects.filter(kind="service_terminated").count() == 1
    assert Renewal.objects.get(period_start=never).invoice.status == InvoiceStatus.CANCELLED

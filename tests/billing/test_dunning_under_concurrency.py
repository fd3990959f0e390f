"""Two daily dunning runs at once (a second beat, a retried task) on PostgreSQL: each overdue
invoice is reminded once per step, each service asked to suspend once, each suspension mailed
once, and neither run fails."""

from datetime import timedelta
from decimal import Decimal

import pytest

from portal.billing.models import BillingEvent, Subscription
from portal.billing.services import LineSpec, invoice_create, payment_record
from portal.billing.services.dunning import overdue_reminders_send, overdue_services_suspend
from portal.billing.services.renewals import renewals_issue
from portal.notifications.models import EmailRecord
from provisioning.models import Service, ServiceAction, ServiceEvent, ServiceStatus
from tests.concurrency import at_once
from tests.factories import CustomerFactory
from tests.services import postgresql_or_skip

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sent_tasks"),
]

SUBSCRIPTIONS = 8
RUNS = 3


def test_runs_at_once_remind_and_suspend_each_service_once(product, settings):
    postgresql_or_skip()
    settings.EMAIL_BACKEND = "portal.notifications.backends.QueuedEmailBackend"
    settings.BILLING_OVERDUE_REMINDER_DAYS = [1, 3]
    settings.BILLING_SUSPEND_AFTER_DAYS = 5
    for index in range(SUBSCRIPTIONS):
        line = LineSpec(
            description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=product,
            cycle="monthly",
        )  # fmt: skip
        invoice = invoice_create(customer=CustomerFactory(), lines=[line], actor=None)
        payment_record(
            invoice=invoice, amount=invoice.total, gateway="bank_transfer",
            reference=f"bank-{index}", actor=None,
        )  # fmt: skip
    Service.objects.update(status=ServiceStatus.ACTIVE, pending_action="")
    due = max(Subscription.objects.values_list("next_due_date", flat=True))
    assert len(renewals_issue(today=due - timedelta(days=7))) == SUBSCRIPTIONS
    day = due + timedelta(days=5)

    def run() -> tuple[int, int]:
        return overdue_reminders_send(today=day), overdue_services_suspend(today=day)

    runs, errors = at_once([run] * RUNS)

    assert errors == []
    assert sum(reminded for reminded, _ in runs) == SUBSCRIPTIONS
    assert sum(suspended for _, suspended in runs) == SUBSCRIPTIONS
    assert EmailRecord.objects.filter(kind="invoice_overdue").count() == SUBSCRIPTIONS
    assert EmailRecord.objects.filter(kind="service_suspended").count() == SUBSCRIPTIONS
    assert set(Service.objects.values_list("pending_action", flat=True)) == {ServiceAction.SUSPEND}
    assert ServiceEvent.objects.filter(action="suspend_requested").count() == SUBSCRIPTIONS
    assert BillingEvent.objects.filter(action="service_suspended").count() == SUBSCRIPTIONS
    assert Subscription.objects.filter(suspended_for__isnull=True).count() == 0

"""Two daily renewal runs at once (a second beat, a retried task) on PostgreSQL: every period is
invoiced once, and neither run fails."""

from decimal import Decimal

import pytest

from portal.billing.models import Renewal, Subscription
from portal.billing.services import LineSpec, invoice_create, payment_record
from portal.billing.services.renewals import renewals_issue
from provisioning.models import Service, ServiceStatus
from tests.concurrency import at_once
from tests.factories import CustomerFactory
from tests.services import postgresql_or_skip

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SUBSCRIPTIONS = 12
RUNS = 4


def test_runs_at_once_issue_each_renewal_once(product):
    postgresql_or_skip()
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
    Service.objects.update(status=ServiceStatus.ACTIVE)
    due = max(Subscription.objects.values_list("next_due_date", flat=True))

    def run() -> list[int]:
        return [renewal.pk for renewal in renewals_issue(today=due)]

    runs, errors = at_once([run] * RUNS)
    issued = [pk for run_issued in runs for pk in run_issued]

    assert errors == []
    assert sorted(issued) == sorted(Renewal.objects.values_list("pk", flat=True))
    assert Renewal.objects.count() == SUBSCRIPTIONS
    assert Renewal.objects.values("subscription").distinct().count() == SUBSCRIPTIONS

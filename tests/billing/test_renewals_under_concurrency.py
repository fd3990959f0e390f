"""Two daily renewal runs at once (a second beat, a retried task) on PostgreSQL: every period is
invoiced once, and neither run fails."""

import os
import threading
from decimal import Decimal

import pytest
from django.db import connection

from portal.billing.models import Renewal, Subscription
from portal.billing.services import LineSpec, invoice_create, payment_record
from portal.billing.services.renewals import renewals_issue
from provisioning.models import Service, ServiceStatus
from tests.factories import CustomerFactory
from tests.services import REQUIRE_SERVICES, service_unavailable

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SUBSCRIPTIONS = 12
RUNS = 4


def test_runs_at_once_issue_each_renewal_once(product):
    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES or os.environ.get("DATABASE_URL", "").startswith("postgres"):
            pytest.fail("this test must run on PostgreSQL")
        service_unavailable("DATABASE_URL does not point at PostgreSQL")
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
    start, issued, errors = threading.Barrier(RUNS), [], []

    def run() -> None:
        try:
            start.wait(timeout=30)
            issued.extend(renewal.pk for renewal in renewals_issue(today=due))
        except Exception as exc:  # every failure is the finding
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(issued) == sorted(Renewal.objects.values_list("pk", flat=True))
    assert Renewal.objects.count() == SUBSCRIPTIONS
    assert Renewal.objects.values("subscription").distinct().count() == SUBSCRIPTIONS

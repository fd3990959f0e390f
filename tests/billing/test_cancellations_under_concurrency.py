"""Cancellation raced on PostgreSQL: a request sent four times at once (a double click, two
tabs) opens one, approved and emailed once; three daily runs at once terminate once."""

from decimal import Decimal

import pytest

from portal.billing.models import BillingEvent, CancellationRequest, Subscription
from portal.billing.services import LineSpec, invoice_create, payment_record
from portal.billing.services.cancellations import cancellation_request, cancellations_run
from portal.notifications.models import EmailRecord
from provisioning.models import Service, ServiceStatus
from tests.concurrency import at_once
from tests.services import postgresql_or_skip

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sent_tasks"),
]


@pytest.fixture
def subscription(customer, product, settings) -> Subscription:
    settings.EMAIL_BACKEND = "portal.notifications.backends.QueuedEmailBackend"
    line = LineSpec(
        description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=product,
        cycle="monthly",
    )  # fmt: skip
    invoice = invoice_create(customer=customer, lines=[line], actor=None)
    payment_record(
        invoice=invoice, amount=invoice.total, gateway="bank_transfer", reference="bank-1",
        actor=None,
    )  # fmt: skip
    Service.objects.update(status=ServiceStatus.ACTIVE, pending_action="")
    return Subscription.objects.get()


def test_requests_at_once_open_one(subscription, customer):
    postgresql_or_skip()

    def ask() -> int:
        return cancellation_request(
            subscription=subscription, when="end_of_period", reason="", actor=customer.user
        ).pk

    opened, errors = at_once([ask] * 4)

    assert errors == []
    assert len(set(opened)) == 1
    assert CancellationRequest.objects.count() == 1
    assert EmailRecord.objects.filter(kind="cancellation_confirmed").count() == 1


def test_runs_at_once_terminate_once(subscription, customer):
    postgresql_or_skip()
    cancellation_request(
        subscription=subscription, when="end_of_period", reason="", actor=customer.user
    )

    done, errors = at_once([lambda: cancellations_run(today=subscription.next_due_date)] * 3)

    assert errors == []
    assert sorted(done) == [0, 0, 1]
    assert BillingEvent.objects.filter(action="cancellation_done").count() == 1
    assert Service.objects.get().events.filter(action="terminate_requested").count() == 1

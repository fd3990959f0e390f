"""Cancellation raced on PostgreSQL: a request sent four times at once (a double click, two
tabs) opens one, approved and emailed once; three daily runs at once terminate once."""

import pytest

from portal.billing.models import BillingEvent, CancellationRequest, Subscription
from portal.billing.services.cancellations import cancellation_request, cancellations_run
from portal.notifications.models import EmailRecord
from provisioning.models import Service
from tests.billing.helpers import monthly_service_paid
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
    return monthly_service_paid(customer, product)


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

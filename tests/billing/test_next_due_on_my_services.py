"""My services shows each service's next due date, kept by billing (provisioning asks whatever
is registered; it does not import billing)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.billing.models import Subscription
from portal.billing.services import LineSpec, invoice_create, payment_record

pytestmark = pytest.mark.django_db


def buy(customer, product, reference):
    line = LineSpec(
        description="VPN 100", unit_price=Decimal("9.99"), product=product, cycle="monthly"
    )
    invoice = invoice_create(customer=customer, lines=[line], actor=None)
    payment_record(
        invoice=invoice, amount=invoice.total, gateway="bank_transfer", reference=reference,
        actor=None,
    )  # fmt: skip


def test_a_paid_service_shows_its_next_due_date(client, customer, product):
    buy(customer, product, "bank-1")
    subscription = Subscription.objects.get()
    client.force_login(customer.user)

    page = client.get("/services/").content.decode()

    due = subscription.next_due_date.isoformat()
    assert f'<td data-label="Next due"><time datetime="{due}">{due}</time></td>' in page


def test_next_due_dates_cost_one_query_however_many_services(client, customer, product):
    client.force_login(customer.user)
    buy(customer, product, "bank-1")
    with CaptureQueriesContext(connection) as one:
        client.get("/services/")
    for n in range(2, 6):
        buy(customer, product, f"bank-{n}")
    with CaptureQueriesContext(connection) as five:
        client.get("/services/")

    assert len(five.captured_queries) == len(one.captured_queries)

"""Staff's invoices and payments: the lists with their filters (overdue included), one of each,
cancelling an unpaid invoice, and recording a bank transfer once per reference — amounts exact,
as strings."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from portal.accounts.roles import BILLING
from portal.billing.models import BillingEvent, Invoice, InvoiceStatus, Payment
from tests.api.staff_helpers import staff_with_role, unpaid_invoice
from tests.billing.helpers import pay
from tests.factories import CustomerFactory
from tests.queries import page_queries

pytestmark = pytest.mark.django_db
INVOICES = "/api/v1/staff/invoices/"
PAYMENTS = "/api/v1/staff/payments/"


@pytest.fixture
def clerk():
    return staff_with_role(BILLING)


@pytest.fixture
def billing_api(client_for, clerk):
    return client_for(clerk)


@pytest.fixture
def invoice(customer, product):
    return unpaid_invoice(customer, product, "10.00")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_an_invoice_shows_its_amounts_as_exact_strings_and_its_lines(billing_api, invoice):
    body = billing_api.get(f"{INVOICES}{invoice.pk}/").json()

    assert (body["status"], body["number"], body["overdue"]) == ("unpaid", None, False)
    assert (body["total"], body["amount_paid"], body["balance_due"]) == ("10.00", "0.00", "10.00")
    assert body["lines"][0]["unit_price"] == "10.00"
    assert body["lines"][0]["cycle"] == "monthly"


def test_the_list_filters_by_status_customer_and_overdue(billing_api, customer, product):
    overdue = unpaid_invoice(customer, product)
    with time_machine.travel(timezone.now() + timedelta(days=60)):
        due_later = unpaid_invoice(customer, product)
        paid = unpaid_invoice(customer, product)
        pay(paid, "bank-paid")
        others = unpaid_invoice(CustomerFactory(), product)

        assert ids(billing_api.get(INVOICES, {"overdue": "true"})) == [overdue.pk]
        assert set(ids(billing_api.get(INVOICES, {"overdue": "false"}))) == {
            due_later.pk, paid.pk, others.pk,
        }  # fmt: skip
        assert ids(billing_api.get(INVOICES, {"status": "paid"})) == [paid.pk]
        assert others.pk not in ids(billing_api.get(INVOICES, {"customer": customer.pk}))
        assert billing_api.get(f"{INVOICES}{overdue.pk}/").json()["overdue"] is True


def test_the_lists_cost_the_same_queries_for_one_row_or_many(billing_api, customer, product):
    pay(unpaid_invoice(customer, product), "bank-0")
    invoices, payments = page_queries(billing_api, INVOICES), page_queries(billing_api, PAYMENTS)
    for n in range(1, 5):
        pay(unpaid_invoice(CustomerFactory(), product), f"bank-{n}")

    assert page_queries(billing_api, INVOICES) == invoices
    assert page_queries(billing_api, PAYMENTS) == payments


def test_recording_the_balance_marks_the_invoice_paid_and_a_repeat_records_nothing(
    billing_api, clerk, invoice, django_capture_on_commit_callbacks
):
    data = {"invoice_id": invoice.pk, "amount": "10.00", "reference": "SEPA-4711"}

    with django_capture_on_commit_callbacks(execute=True):
        first = billing_api.post(PAYMENTS, data, format="json")
    again = billing_api.post(PAYMENTS, data, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert first.json()["amount"] == "10.00"
    assert first.json()["recorded_by"] == clerk.username
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.number
    assert Payment.objects.get().recorded_by == clerk
    assert BillingEvent.objects.filter(action="payment_received", actor=clerk).count() == 1
    assert LogEntry.objects.get().get_change_message() == "Payment recorded."


def test_a_part_payment_is_exact_and_leaves_the_invoice_unpaid(billing_api, invoice):
    for n, amount in enumerate(["3.33", "3.33"]):
        data = {"invoice_id": invoice.pk, "amount": amount, "reference": f"part-{n}"}
        assert billing_api.post(PAYMENTS, data, format="json").status_code == 201

    body = billing_api.get(f"{INVOICES}{invoice.pk}/").json()

    assert (body["status"], body["amount_paid"], body["balance_due"]) == ("unpaid", "6.66", "3.34")


@pytest.mark.parametrize("amount", ["0", "-5", "1.005", "abc", "1e400"])
def test_an_amount_that_is_not_money_is_refused(billing_api, invoice, amount):
    data = {"invoice_id": invoice.pk, "amount": amount, "reference": "x-1"}

    response = billing_api.post(PAYMENTS, data, format="json")

    assert response.status_code == 400
    assert "amount" in response.json()["error"]["fields"]
    assert not Payment.objects.exists()


def test_a_reference_recorded_for_another_invoice_is_a_409(billing_api, invoice, customer, product):
    pay(unpaid_invoice(customer, product), "SEPA-1")

    response = billing_api.post(
        PAYMENTS,
        {"invoice_id": invoice.pk, "amount": "10.00", "reference": "SEPA-1"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "billing_refused"
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0


def test_the_payments_list_filters_by_invoice(billing_api, invoice, customer, product):
    pay(invoice, "SEPA-a")
    pay(unpaid_invoice(customer, product), "SEPA-b")

    rows = billing_api.get(PAYMENTS, {"invoice": invoice.pk}).json()["results"]

    assert [row["reference"] for row in rows] == ["SEPA-a"]
    assert billing_api.get(f"{PAYMENTS}{rows[0]['id']}/").json()["amount"] == "10.00"


def test_cancelling_an_unpaid_invoice_is_audited_and_a_repeat_changes_nothing(
    billing_api, clerk, invoice
):
    url = f"{INVOICES}{invoice.pk}/cancel/"

    first = billing_api.post(url, {"reason": "ordered twice"}, format="json")
    again = billing_api.post(url, {"reason": "ordered twice"}, format="json")

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["status"] == "cancelled"
    event = BillingEvent.objects.get(action="invoice_cancelled")
    assert (event.actor, event.data["reason"]) == (clerk, "ordered twice")
    assert LogEntry.objects.get().get_change_message() == "Invoice cancelled."


def test_a_paid_invoice_is_not_cancelled(billing_api, invoice):
    pay(invoice, "SEPA-9")

    response = billing_api.post(f"{INVOICES}{invoice.pk}/cancel/", {"reason": "x"}, format="json")

    assert response.status_code == 409
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID


def test_cancel_needs_a_reason(billing_api, invoice):
    response = billing_api.post(f"{INVOICES}{invoice.pk}/cancel/", {}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.UNPAID

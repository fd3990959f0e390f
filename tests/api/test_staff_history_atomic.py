"""Each staff change and its row in the admin's history are one transaction: when the history
row cannot be written (here the database refuses it, by a trigger) the change is not made
either, and the answer is a 500 with the error body. And two concurrent recordings of one bank
reference answer 201 once (the payment service says which call recorded it)."""

import threading
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from rest_framework.test import APIClient

from portal.billing.models import Invoice, InvoiceStatus, Payment
from provisioning.models import Service
from tests.api.staff_helpers import unpaid_invoice
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db
REFUSE_HISTORY = {
    "sqlite": [
        "CREATE TRIGGER refuse_history BEFORE INSERT ON django_admin_log "
        "BEGIN SELECT RAISE(ABORT, 'history refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_history() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'history refused'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_history BEFORE INSERT ON django_admin_log "
        "FOR EACH ROW EXECUTE FUNCTION refuse_history()",
    ],
}


@pytest.fixture
def history_refused():
    """The database refuses admin history rows for this test (the DDL is rolled back with the
    test's transaction on both databases)."""
    with connection.cursor() as cursor:
        for statement in REFUSE_HISTORY[connection.vendor]:
            cursor.execute(statement)


def assert_server_error(response) -> None:
    assert response.status_code == 500, response.content
    assert response.json()["error"]["code"] == "server_error"


@pytest.mark.usefixtures("history_refused")
def test_a_lifecycle_action_is_not_queued_without_its_history_row(staff_api, service_factory):
    service = service_factory(on_panel=True)

    response = staff_api.post(f"/api/v1/staff/services/{service.pk}/suspend/", {}, format="json")

    assert_server_error(response)
    assert Service.objects.get(pk=service.pk).pending_action == ""


@pytest.mark.usefixtures("history_refused")
def test_an_invoice_is_not_cancelled_without_its_history_row(staff_api, customer, product):
    invoice = unpaid_invoice(customer, product)

    response = staff_api.post(
        f"/api/v1/staff/invoices/{invoice.pk}/cancel/", {"reason": "typo"}, format="json"
    )

    assert_server_error(response)
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.UNPAID


@pytest.mark.usefixtures("history_refused")
def test_a_payment_is_not_recorded_without_its_history_row(staff_api, customer, product):
    invoice = unpaid_invoice(customer, product)
    data = {"invoice_id": invoice.pk, "amount": "9.99", "reference": "SEPA-9"}

    assert_server_error(staff_api.post("/api/v1/staff/payments/", data, format="json"))

    assert not Payment.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).amount_paid == 0


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_recordings_of_one_reference_answer_201_once(token_for, customer, product):
    invoice = unpaid_invoice(customer, product, "10.00")
    token = token_for(StaffFactory())
    data = {"invoice_id": invoice.pk, "amount": "10.00", "reference": "SEPA-twin"}
    start = threading.Barrier(2)
    answers: list[int] = []

    def post() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        start.wait()
        answers.append(client.post("/api/v1/staff/payments/", data, format="json").status_code)
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [200, 201]
    assert Payment.objects.get().amount == Decimal("10.00")
    assert LogEntry.objects.count() == 1

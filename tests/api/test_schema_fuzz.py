"""Schemathesis fuzzes every operation of /api/schema/: no server error, answers as documented.

Runs in-process against the WSGI app, as a customer (who owns a service on a live simulator, a
pending one and a terminated one, an unpaid and a paid invoice, an order and credit) and as a
superadmin, so the staff endpoints are fuzzed too.
Lifecycle actions only queue work: task messages are caught (``sent_tasks``), no worker runs.
"""

from collections.abc import Iterator
from decimal import Decimal

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from portal.billing.models import CreditEntry
from provisioning.models import ServiceStatus
from tests.api.staff_helpers import unpaid_invoice
from tests.billing.helpers import pay
from tests.factories import OrderItemFactory, PlanFactory, ServiceFactory

EXAMPLES_PER_OPERATION = 10
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """The project's WSGI app, in the test's transaction: like Django's test client, without
    closing the connection at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzzed_rows(simulator, server_for, product_for, customer) -> dict[str, list[int]]:
    """The customer's rows by the resource of their URL: services (one on the simulator, one
    pending, one ended), invoices (one unpaid, one paid) and its payment, an order; and credit."""
    server = server_for(simulator)
    product = product_for((server, "office"), name="VPN fuzz", metric_download=True)
    simulator.knob("POST", "clients", {"name": "vpn-fuzz-1", "network_name": "office"})
    services = [
        ServiceFactory(
            customer=customer, product=product, server=server, network="office",
            remote_name="vpn-fuzz-1", status=ServiceStatus.ACTIVE, activated_at=timezone.now(),
        ),
        ServiceFactory(customer=customer, product=product),
        ServiceFactory(customer=customer, product=product, status=ServiceStatus.TERMINATED),
    ]  # fmt: skip
    invoices = [unpaid_invoice(customer, product), unpaid_invoice(customer, product, "4.00")]
    pay(invoices[1], "bank-fuzz")
    order = OrderItemFactory(order__customer=customer, plan=PlanFactory(product=product)).order
    CreditEntry.objects.create(customer=customer, amount=Decimal("-1.50"), reason="fuzz")
    return {
        "services": [service.pk for service in services],
        "invoices": [invoice.pk for invoice in invoices],
        "orders": [order.pk],
        "payments": [invoices[1].payments.get().pk],
    }


def resource_of(path: str) -> str:
    """``services`` of ``/api/v1/services/{id}/traffic/`` (staff paths alike)."""
    return path.split("/{id}", 1)[0].rsplit("/", 1)[-1]


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.usefixtures("sent_tasks")
@pytest.mark.parametrize("who", ["customer", "superadmin"])
def test_no_operation_answers_a_server_error_or_off_schema(
    who, wsgi_app, fuzzed_rows, customer, staff, token_for, settings_override
):
    user = customer.user if who == "customer" else staff
    headers = {"Authorization": f"Bearer {token_for(user)}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app, headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations

    for operation in operations:
        # Free ids (mostly nobody's), then each of the customer's rows of the path's resource
        # by its id (services' ids for the resources the customer has no rows of).
        strategies = [operation.as_strategy()]
        if "{id}" in operation.path:
            rows = fuzzed_rows.get(resource_of(operation.path), fuzzed_rows["services"])
            strategies += [operation.as_strategy(path_parameters={"id": pk}) for pk in rows]
        for strategy in strategies:

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            fuzz()


@pytest.fixture
def settings_override(settings):
    """No throttling in the way of the fuzzer's few hundred requests."""
    settings.API_THROTTLE_RATES = {"user": "100000/min", "anon": "100000/min"}

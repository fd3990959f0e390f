"""Schemathesis fuzzes every operation of /api/schema/: no server error, answers as documented.

Runs in-process against the WSGI app, as a customer (who owns a service on a live simulator, a
pending one and a terminated one) and as a superadmin, so the staff endpoints are fuzzed too.
Lifecycle actions only queue work: task messages are caught (``sent_tasks``), no worker runs.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from provisioning.models import ServiceStatus
from tests.factories import ServiceFactory

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
def fuzzed_rows(simulator, server_for, product_for, customer) -> list[int]:
    """The customer's services (their ids): one on the simulator, one pending, one ended."""
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
    return [service.pk for service in services]


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.usefixtures("sent_tasks")
@pytest.mark.parametrize("who", ["customer", "superadmin"])
def test_no_operation_answers_a_server_error_or_off_schema(
    who, wsgi_app, fuzzed_rows, customer, staff, token_for, settings_override
):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    user = customer.user if who == "customer" else staff
    headers = {"Authorization": f"Bearer {token_for(user)}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations

    for operation in operations:
        # Free ids (mostly nobody's), then each of the customer's services by its id.
        strategies = [operation.as_strategy()]
        if "{id}" in operation.path:
            strategies += [operation.as_strategy(path_parameters={"id": pk}) for pk in fuzzed_rows]
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

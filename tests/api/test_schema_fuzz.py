"""Schemathesis fuzzes every operation of /api/schema/: no server error, answers as documented.

Runs in-process against the WSGI app, as a customer (who owns a service on a live simulator, a
pending one and a terminated one, an unpaid and a paid invoice, an order and credit) and as a
superadmin, so the staff endpoints are fuzzed too. The schema's operations are exactly the URL
patterns' (none left unfuzzed). Random ids in a body are almost never a row's, so bodies naming
an invoice or a product are fuzzed a second time with the seeded rows' ids, and the superadmin's
creations (a bank transfer, a plan) are sent once with a valid body that must answer 201: their
success path runs under the same checks.
Lifecycle actions only queue work: task messages are caught (``sent_tasks``), no worker runs.
"""

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance

from portal import api_urls
from portal.billing.models import CreditEntry
from provisioning.models import ServiceStatus
from tests.api.staff_helpers import unpaid_invoice
from tests.billing.helpers import pay
from tests.factories import OrderItemFactory, PlanFactory, ProductFactory, ServiceFactory

EXAMPLES_PER_OPERATION = 10
CHECKS = [not_a_server_error, response_schema_conformance]
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


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
    pending, one ended), invoices (one unpaid, one paid) and its payment, an order; and credit.
    ``products`` are ids a body may name: the services' product and two not on sale yet."""
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
        "products": [product.pk, *(ProductFactory().pk for _ in range(2))],
    }


def resource_of(path: str) -> str:
    """``services`` of ``/api/v1/services/{id}/traffic/`` (staff paths alike)."""
    return path.split("/{id}", 1)[0].rsplit("/", 1)[-1]


def url_operations(patterns: list = api_urls.v1, prefix: str = "/api/v1/") -> set[tuple[str, str]]:
    """Every (method, path) the URL patterns under /api/v1/ route to a view, paths written as
    the schema writes them (``<int:pk>`` is ``{id}``)."""
    operations = set()
    for pattern in patterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            operations |= url_operations(pattern.url_patterns, prefix + route)
            continue
        assert isinstance(pattern, URLPattern)
        if route.startswith("^"):  # the catch-all 404 for unknown endpoints
            continue
        path = prefix + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).replace("{pk}", "{id}")
        view = pattern.callback.view_class
        operations |= {(m.upper(), path) for m in HTTP_METHODS if hasattr(view, m)}
    return operations


def with_seeded_ids(strategy, rows: dict[str, list[int]]):
    """Cases of ``strategy`` whose body's ``invoice_id`` / ``product_id`` name seeded rows and
    whose ``amount`` is a valid one (the schema's decimal string is mostly random text)."""
    seeded = {
        "invoice_id": st.sampled_from(rows["invoices"]),
        "product_id": st.sampled_from(rows["products"]),
        "amount": st.decimals("0.01", "20.00", places=2).map(str),
    }

    def name_rows(case_and_values):
        case, values = case_and_values
        if isinstance(case.body, dict):
            case.body = {**case.body, **{k: v for k, v in values.items() if k in case.body}}
        return case

    return st.tuples(strategy, st.fixed_dictionaries(seeded)).map(name_rows)


def body_names_a_row(operation) -> bool:
    """Whether the operation's body takes the id of an invoice or a product."""
    return any(
        name in (body.resolved_schema or {}).get("properties", {})
        for body in operation.body
        for name in ("invoice_id", "product_id")
    )


def successful_creations(rows: dict[str, list[int]]) -> dict[tuple[str, str], dict]:
    """A valid body of each staff creation the fuzzer's random ids never reach."""
    return {
        ("POST", "/api/v1/staff/payments/"): {
            "invoice_id": rows["invoices"][0], "amount": "1.00", "reference": "fuzz-transfer-1",
        },
        ("POST", "/api/v1/staff/plans/"): {
            "product_id": ProductFactory().pk, "slug": "fuzz-plan", "description": "Fuzzed.",
            "prices": [{"cycle": "monthly", "price": "4.99", "setup_fee": "1.00"}],
        },
    }  # fmt: skip


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
    assert {(operation.method.upper(), operation.path) for operation in operations} == (
        url_operations()
    )

    if who == "superadmin":
        by_key = {(operation.method.upper(), operation.path): operation for operation in operations}
        for key, body in successful_creations(fuzzed_rows).items():
            case = by_key[key].Case(body=body, media_type="application/json")
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            assert response.status_code == 201, (key, response.status_code, response.text)

    for operation in operations:
        # Free ids (mostly nobody's), then each of the customer's rows of the path's resource
        # by its id (services' ids for the resources the customer has no rows of); a body
        # naming an invoice or a product, once more with the seeded rows'.
        strategies = [operation.as_strategy()]
        if "{id}" in operation.path:
            rows = fuzzed_rows.get(resource_of(operation.path), fuzzed_rows["services"])
            strategies += [operation.as_strategy(path_parameters={"id": pk}) for pk in rows]
        if body_names_a_row(operation):
            strategies.append(with_seeded_ids(operation.as_strategy(), fuzzed_rows))
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

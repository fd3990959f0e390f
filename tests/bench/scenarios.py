"""The named scenarios: each drives real parts (test database, a simulator process) and returns
``report.summarize(...)`` of its timings. Nothing here asserts speed; wrong answers raise."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.bench.paid_to_active import paid_to_active
from tests.bench.report import summarize
from tests.bench.usage_pull import usage_pull

ONLINE_PATH = "/api/v1/client/online"
_names = itertools.count(1)


@dataclass(frozen=True)
class Sizes:
    renders: int = 30
    viewers: int = 8
    viewing_seconds: float = 5.0
    panel_calls: int = 300
    creates: int = 20
    payments: int = 100
    worker_concurrency: int = 16  # processes of paid_to_active's worker
    usage_services: int = 10_000
    usage_panels: int = 10
    usage_serial_sample: int = 100

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            renders=5,
            viewers=4,
            viewing_seconds=2.0,
            panel_calls=30,
            creates=3,
            payments=10,
            usage_services=1000,
            usage_serial_sample=30,
        )


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[Any, Sizes], dict[str, Any]]
    needs_db: bool = True


@contextmanager
def test_databases() -> Iterator[None]:
    """A fresh migrated test database, as the test runner makes one (DEBUG off)."""
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_test_environment(debug=False)
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()


def panel_calls(simulator, path: str | None = None) -> int:
    return sum(1 for c in simulator.knob("GET", "calls") if path is None or c["path"] == path)


def _timed(operation: Callable[[], object]) -> float:
    started = time.perf_counter()
    operation()
    return time.perf_counter() - started


# A small cast in the test database ---------------------------------------------------------------


def _customer():
    from tests.factories import CustomerFactory  # Django is set up by now

    return CustomerFactory(user__username=f"bench{next(_names)}")


def _product(simulator):
    """A product deploying to the simulator's office network, on a server row of its own."""
    from tests.factories import ProductFactory, ServerFactory, ServerGroupFactory

    n = next(_names)
    group = ServerGroupFactory(name=f"Bench {n}")
    server = ServerFactory.for_simulator(simulator, name=f"bench-panel-{n}", group=group)
    targets = [{"server_id": server.pk, "network": "office"}]
    return ProductFactory(
        name=f"VPN {n}", group=group, settings={"deploy_targets": targets, "download_mbps": 100}
    )


def _live_service(simulator, customer, product):
    """An active service whose client exists, online, on the simulator's panel."""
    from django.utils import timezone

    from provisioning.models import ServiceStatus
    from tests.factories import ServiceFactory

    name = f"vpn-bench-{next(_names)}"
    simulator.knob("POST", "clients", {"name": name, "network_name": "office"})
    simulator.knob("POST", f"clients/{name}/session", {"online": True, "protocol": "wireguard"})
    return ServiceFactory(
        customer=customer,
        product=product,
        server_id=product.settings["deploy_targets"][0]["server_id"],
        network="office",
        remote_name=name,
        status=ServiceStatus.ACTIVE,
        activated_at=timezone.now(),
    )


def _logged_in(customer):
    from django.test import Client

    client = Client()
    client.force_login(customer.user)
    return client


# Scenarios ---------------------------------------------------------------------------------------


def page_render(simulator, sizes: Sizes) -> dict[str, Any]:
    """GET /services/<id>/ as the owner, the panel answering; queries and panel calls per render."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    customer = _customer()
    service = _live_service(simulator, customer, _product(simulator))
    client = _logged_in(customer)
    url = reverse("client_area:service_detail", args=[service.pk])
    client.get(url)  # warm-up: templates, first connection
    simulator.knob("POST", "calls/reset")
    samples: list[float] = []
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        for _ in range(sizes.renders):
            samples.append(_timed(lambda: _expect(client.get(url), 200)))
        elapsed = time.perf_counter() - started
    return summarize(
        samples,
        elapsed=elapsed,
        queries_per_render=round(len(queries) / sizes.renders, 1),
        panel_calls_per_render=round(panel_calls(simulator) / sizes.renders, 1),
    )


def connection_json(simulator, sizes: Sizes) -> dict[str, Any]:
    """N viewers (own customer, own service, one panel) polling connection.json back to back."""
    from django.db import connection
    from django.urls import reverse

    from provisioning.client_area import api

    product = _product(simulator)
    viewers = []
    for _ in range(sizes.viewers):
        customer = _customer()
        service = _live_service(simulator, customer, product)
        url = reverse("client_area:service_connection", args=[service.pk])
        viewers.append((_logged_in(customer), url))
    simulator.knob("POST", "calls/reset")
    samples: list[float] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(viewers))

    def poll(client, url: str) -> None:
        try:
            barrier.wait()
            stop = time.monotonic() + sizes.viewing_seconds
            while time.monotonic() < stop:
                samples.append(_timed(lambda: _expect(client.get(url), 200, online=True)))
        except BaseException as exc:  # reported after the join
            errors.append(exc)
        finally:
            connection.close()

    # The per-viewer limit (30 a minute) would turn a tight loop into 429s: lifted for the run.
    limit, api.STATUS_RATE_LIMIT = api.STATUS_RATE_LIMIT, 10**9
    try:
        threads = [threading.Thread(target=poll, args=viewer) for viewer in viewers]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=sizes.viewing_seconds + 60)
        elapsed = time.perf_counter() - started
    finally:
        api.STATUS_RATE_LIMIT = limit
    if errors:
        raise errors[0]
    return summarize(
        samples, elapsed=elapsed, viewers=sizes.viewers, panel_calls=panel_calls(simulator)
    )


def panel_client(simulator, sizes: Sizes) -> dict[str, Any]:
    """K sequential ``PanelClient.get_client`` calls against the simulator."""
    from vpnpanel import PanelClient

    name = f"vpn-bench-{next(_names)}"
    simulator.knob("POST", "clients", {"name": name, "network_name": "office"})
    panel = PanelClient(simulator.url, simulator.token)
    panel.get_client(name)  # warm-up: the connection pool
    simulator.knob("POST", "calls/reset")
    samples: list[float] = []
    started = time.perf_counter()
    for _ in range(sizes.panel_calls):
        samples.append(_timed(lambda: panel.get_client(name)))
    elapsed = time.perf_counter() - started
    return summarize(samples, elapsed=elapsed, panel_calls=panel_calls(simulator))


def provisioning(simulator, sizes: Sizes) -> dict[str, Any]:
    """``service_create`` then the run its Celery task makes (eager, in-process), end to end."""
    from portal.celery import app

    customer, product = _customer(), _product(simulator)
    simulator.knob("POST", "calls/reset")
    samples: list[float] = []
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the on-commit enqueue runs the real task right here
    try:
        started = time.perf_counter()
        for _ in range(sizes.creates):
            samples.append(_timed(lambda: _create_active(customer, product)))
        elapsed = time.perf_counter() - started
    finally:
        app.conf.task_always_eager = eager
    return summarize(
        samples,
        elapsed=elapsed,
        panel_calls_per_create=round(panel_calls(simulator) / sizes.creates, 1),
    )


def _create_active(customer, product) -> None:
    from provisioning.models import ServiceStatus
    from tests.factories import order_service  # Django is set up by now

    service = order_service(customer, product)
    service.refresh_from_db()
    if service.status != ServiceStatus.ACTIVE:
        raise RuntimeError(f"service {service.pk} is {service.status}: {service.last_error}")


def _expect(response, status: int, **body: Any) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{response.request['PATH_INFO']} answered {response.status_code}")
    if body and any(response.json().get(k) != v for k, v in body.items()):
        raise RuntimeError(f"{response.request['PATH_INFO']} answered {response.json()}")


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("page_render", page_render),
        Scenario("connection_json", connection_json),
        Scenario("panel_client", panel_client, needs_db=False),
        Scenario("provisioning", provisioning),
        Scenario("paid_to_active", paid_to_active),
        Scenario("usage_pull", usage_pull),
    )
}

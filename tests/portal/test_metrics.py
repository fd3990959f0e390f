"""``/metrics``: the series a provisioning run leaves for Prometheus, and who may scrape them.

The recorded series live in the deployment's shared store (Redis with REDIS_URL, else a SQLite
file under the session's var/ that the session's Celery worker writes too); they keep growing over
the session, so the tests compare a scrape before with one after.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now
from prometheus_client.parser import text_string_to_metric_families

from portal.billing.services import LineSpec, invoice_create, payment_record
from portal.celery import app as celery_app
from portal.core import metrics
from provisioning.live import service_connection_status
from provisioning.models import ModuleLogEntry, ServiceAction, ServiceStatus
from provisioning.panels import panel_for
from tests.factories import ServiceFactory, order_service
from tests.provisioning.conftest import settled, wait_for_service
from tests.services import redis_url_or_skip
from vpnpanel import endpoint_template

TOKEN = "metrics-token-" + "x" * 32
PANEL_CALLS = "portal_panel_call_duration_seconds"

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return TOKEN


def scrape(client: Client, *, token: str = TOKEN, **extra: str) -> Series:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return parsed(response.content.decode())


def parsed(text: str) -> Series:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float:
    return series.get((name, tuple(sorted(labels.items()))), 0.0)


# A provisioning run, end to end ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_provisioning_run_shows_its_panel_calls_and_outcome(
    live_worker, simulator, token, customer, server_for, product_for
):
    # given a panel, and what the store held before
    server = server_for(simulator)
    product = product_for((server, "office"))
    before = scrape(Client())

    # when the worker (another process) provisions a service on it
    service = wait_for_service(order_service(customer, product), settled)
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    after = scrape(Client())

    # then every call it made is in the histogram under its endpoint, none under a client name
    logged = ModuleLogEntry.objects.filter(service=service, outcome="ok")
    calls = {(row.method, endpoint_template(row.path)) for row in logged}
    assert {("POST", "client"), ("PUT", "client/{name}")} <= calls
    for method, endpoint in calls:
        labels = {"server": server.name, "method": method, "endpoint": endpoint, "outcome": "ok"}
        count = value(after, f"{PANEL_CALLS}_count", **labels)
        assert count - value(before, f"{PANEL_CALLS}_count", **labels) >= 1, (method, endpoint)
        inf = value(after, f"{PANEL_CALLS}_bucket", **labels, le="+Inf")
        assert inf == count
        assert value(after, f"{PANEL_CALLS}_sum", **labels) > 0
    assert not any(
        service.remote_name in dict(labels).get("endpoint", "") for _name, labels in after
    )
    # and the run's outcome is counted once
    succeeded = {"action": "create", "outcome": "succeeded"}
    assert value(after, "portal_provisioning_outcomes_total", **succeeded) == (
        value(before, "portal_provisioning_outcomes_total", **succeeded) + 1
    )
    assert value(after, "portal_metrics_store_up") == 1


# Who may scrape ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_endpoint_is_off_until_a_token_or_networks_are_set(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []

    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [None, f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer ", TOKEN],
    ids=["none", "shorter", "longer", "other scheme", "empty", "no scheme"],
)
def test_a_scrape_without_the_token_is_refused_with_no_data(client, token, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"portal_" not in response.content
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_an_allowed_network_scrapes_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.20.0.0/16", "2001:db8::/32"]

    for address in ("10.20.3.4", "2001:db8::7", "::ffff:10.20.0.1"):
        response = client.get("/metrics", REMOTE_ADDR=address)
        assert response.status_code == 200, address
        assert b"portal_provisioning_parked_actions" in response.content
    for address in ("10.21.0.1", "2001:db9::1", "127.0.0.1"):
        response = client.get("/metrics", REMOTE_ADDR=address)
        assert response.status_code == 403, address
        assert b"portal_" not in response.content


@pytest.mark.django_db
def test_the_forwarded_address_counts_only_behind_trusted_proxies(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.20.0.0/16"]
    forged = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "10.20.0.5"}
    via_proxy = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 10.20.0.5"}

    assert client.get("/metrics", **forged).status_code == 403
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    assert client.get("/metrics", **via_proxy).status_code == 200
    assert (
        client.get("/metrics", REMOTE_ADDR="10.20.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6").status_code
        == 403
    )


@pytest.mark.django_db
def test_with_both_set_a_scrape_needs_the_network_and_the_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = ["10.20.0.0/16"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}

    assert client.get("/metrics", REMOTE_ADDR="10.20.0.1").status_code == 401
    assert client.get("/metrics", REMOTE_ADDR="10.99.0.1", **bearer).status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.20.0.1", **bearer).status_code == 200


@pytest.mark.django_db
def test_too_few_forwarded_entries_are_refused_not_read_as_the_proxys_address(client, settings):
    """Behind two proxies a request that passed fewer of them (or came to the proxy's address
    directly) has no trustworthy client address: the inner proxy's own, in the allowed network,
    must not stand in for it."""
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    settings.PORTAL_TRUSTED_PROXY_COUNT = 2
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    assert client.get("/metrics", **proxy, HTTP_X_FORWARDED_FOR="6.6.6.6").status_code == 403
    assert client.get("/metrics", **proxy).status_code == 403
    passed_both = client.get("/metrics", **proxy, HTTP_X_FORWARDED_FOR="10.1.2.3, 10.0.0.1")
    assert passed_both.status_code == 200


# Series counted at the scrape -------------------------------------------------------------------


@pytest.mark.django_db
def test_parked_actions_and_invoices_are_counted_in_the_database(client, token, customer):
    # given two parked actions and one in flight
    parked = {"pending_action": ServiceAction.SUSPEND, "action_failed_at": "2025-01-01T00:00Z"}
    ServiceFactory.create_batch(2, on_panel=True, **parked)
    ServiceFactory(on_panel=True, pending_action=ServiceAction.TERMINATE)
    # and two invoices issued, one of them paid
    line = LineSpec(description="Credit", unit_price=Decimal("20.00"), adds_credit=True)
    invoices = [invoice_create(customer=customer, lines=[line], actor=None) for _ in range(2)]
    payment_record(
        invoice=invoices[0], amount=invoices[0].total, gateway="bank_transfer",
        reference="metrics-1", actor=None,
    )  # fmt: skip

    scraped = scrape(client)

    assert value(scraped, "portal_provisioning_parked_actions", action="suspend") == 2
    assert value(scraped, "portal_provisioning_parked_actions", action="terminate") == 0
    assert value(scraped, "portal_invoices_issued_total", kind="invoice") == 2
    assert value(scraped, "portal_invoices_issued_total", kind="credit_note") == 0
    assert value(scraped, "portal_invoices_paid_total") == 1


@pytest.mark.django_db
def test_a_scrape_costs_two_queries_however_much_there_is(client, token, customer):
    ServiceFactory.create_batch(3, on_panel=True, pending_action="suspend", action_failed_at=now())
    line = LineSpec(description="Credit", unit_price=Decimal("5.00"), adds_credit=True)
    invoice_create(customer=customer, lines=[line], actor=None)

    with CaptureQueriesContext(connection) as queries:
        scrape(client)

    assert len(queries.captured_queries) == 2


@pytest.mark.django_db
def test_the_queue_length_is_the_brokers(client, token, settings):
    # given a queue no worker consumes, holding two task messages
    queue = f"metrics-{uuid.uuid4().hex[:10]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    assert value(scrape(client), "portal_celery_queue_length", queue=queue) == 0
    for _ in range(2):
        celery_app.send_task("portal.core.tasks.record_heartbeat", queue=queue)
    try:
        # then
        assert value(scrape(client), "portal_celery_queue_length", queue=queue) == 2
    finally:
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)


@pytest.mark.django_db(transaction=True)
def test_live_status_lookups_count_hits_and_misses(
    client, token, private_cache, simulator, server_for
):
    service = ServiceFactory(on_panel=True, server=server_for(simulator))
    before = scrape(client)

    for _ in range(3):
        service_connection_status(service)

    after = scrape(client)
    lookups = "portal_live_status_lookups_total"
    for result, more in (("miss", 1), ("hit", 2)):
        assert value(after, lookups, result=result) - value(before, lookups, result=result) == more


# Recording never breaks the work ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_dead_metrics_store_neither_breaks_nor_slows_panel_calls(
    client, token, settings, simulator, server_for, caplog
):
    # given Redis configured at a port nothing listens on
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    server = server_for(simulator)
    panel = panel_for(server, action="metrics-test")
    caplog.set_level(logging.WARNING, logger="portal.core.metrics")

    # when panel calls are made
    started = time.monotonic()
    statuses = [panel.system_status() for _ in range(5)]
    elapsed = time.monotonic() - started

    # then each call succeeds and is in the module log; the failure is logged once
    assert len(statuses) == 5
    assert ModuleLogEntry.objects.filter(action="metrics-test", outcome="ok").count() == 5
    warnings = [r for r in caplog.records if r.message.startswith("Metrics: cannot record")]
    assert len(warnings) == 1
    assert elapsed < 2 * metrics.REDIS_TIMEOUT_SECONDS + 5
    # and a scrape still answers, saying the recorded series are missing
    scraped = scrape(client)
    assert value(scraped, "portal_metrics_store_up") == 0
    assert ("portal_provisioning_parked_actions", (("action", "create"),)) in scraped


@pytest.mark.django_db
def test_a_metrics_store_that_cannot_be_made_loses_no_module_log_row(
    settings, simulator, server_for, caplog
):
    # given a REDIS_URL the Redis client refuses outright
    settings.REDIS_URL = "nosuch://127.0.0.1:9/0"
    panel = panel_for(server_for(simulator), action="metrics-unmade")
    caplog.set_level(logging.WARNING)

    # when panel calls are made
    statuses = [panel.system_status() for _ in range(3)]

    # then each call succeeds and is in the module log; the failure is logged once
    assert len(statuses) == 3
    assert ModuleLogEntry.objects.filter(action="metrics-unmade", outcome="ok").count() == 3
    assert not [r for r in caplog.records if r.message.startswith("The on_call hook failed")]
    warnings = [r for r in caplog.records if r.message.startswith("Metrics: cannot record")]
    assert len(warnings) == 1


# The store ---------------------------------------------------------------------------------------


def test_a_histogram_is_stored_as_buckets_and_read_back_cumulative(tmp_path):
    store = metrics.SQLiteStore(tmp_path / "metrics.sqlite3")
    labels = ("panel-a", "GET", "client/{name}", "ok")
    for seconds in (0.01, 0.03, 0.03, 3.0, 99.0):
        store.add(
            metrics.PANEL_CALL_SECONDS.name,
            [
                (metrics._field(labels, metrics.PANEL_CALL_SECONDS.bucket_of(seconds)), 1.0),
                (metrics._field(labels, metrics.SUM), seconds),
            ],
        )

    scraped = parsed_collector(metrics.StoredMetricsCollector(store))

    series = dict(zip(metrics.PANEL_CALL_SECONDS.labels, labels, strict=True))
    buckets = {
        le: value(scraped, f"{PANEL_CALLS}_bucket", **series, le=le)
        for le in ("0.025", "0.05", "2.5", "5.0", "20.0", "+Inf")
    }
    assert buckets == {"0.025": 1, "0.05": 3, "2.5": 3, "5.0": 4, "20.0": 4, "+Inf": 5}
    assert value(scraped, f"{PANEL_CALLS}_count", **series) == 5
    assert value(scraped, f"{PANEL_CALLS}_sum", **series) == pytest.approx(102.07)


def test_threads_recording_at_once_add_up_in_the_sqlite_file(tmp_path):
    store = metrics.SQLiteStore(tmp_path / "metrics.sqlite3")
    field = metrics._field(("create", "succeeded"), "")

    def record() -> None:
        for _ in range(200):
            store.add(metrics.PROVISIONING_OUTCOMES.name, [(field, 1.0)])

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert metrics.SQLiteStore(store.path).read(metrics.PROVISIONING_OUTCOMES.name) == {
        field: 800.0
    }


@pytest.mark.services
def test_machines_recording_at_once_add_up_in_redis():
    # given two "machines", each with its own client of the one Redis, recording from threads
    url = redis_url_or_skip()
    prefix = f"t-{uuid.uuid4().hex[:10]}"
    machines = [metrics.RedisStore(url, prefix), metrics.RedisStore(url, prefix)]
    field = metrics._field(("create", "succeeded"), "")

    def record(store: metrics.RedisStore) -> None:
        for _ in range(200):
            store.add(metrics.PROVISIONING_OUTCOMES.name, [(field, 1.0)])

    threads = [threading.Thread(target=record, args=(m,)) for m in machines for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    try:
        assert machines[0].read(metrics.PROVISIONING_OUTCOMES.name) == {field: 800.0}
    finally:
        machines[0].client.delete(f"{prefix}:metrics:{metrics.PROVISIONING_OUTCOMES.name}")


def test_endpoint_templates_hide_names_and_dates():
    assert endpoint_template("client") == "client"
    assert endpoint_template("client/online") == "client/online"
    assert endpoint_template("client/vpn-1-2-abc") == "client/{name}"
    assert endpoint_template("client/vpn-1/config/text") == "client/{name}/config/text"
    assert (
        endpoint_template("client/vpn-1/traffic/2025/3") == "client/{name}/traffic/{year}/{month}"
    )
    assert endpoint_template("network/office/available_ip") == "network/{name}/available_ip"
    assert endpoint_template("system/status") == "system/status"


def parsed_collector(collector: metrics.StoredMetricsCollector) -> Series:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    registry.register(collector)
    return parsed(generate_latest(registry).decode())

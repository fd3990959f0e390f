"""Usage metrics against a live simulator: monthly totals from the per-day traffic rows, decimal GB,
metered services only, bounded concurrency per panel, failures counted but never contagious."""

import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from provisioning import tasks
from provisioning.models import ModuleLogEntry, Service, ServiceStatus, UsageSnapshot
from provisioning.usage import (
    BYTES_PER_GB,
    bytes_to_gb,
    service_usage_refresh,
    usage_pull_all,
    usage_pull_server,
)
from tests.factories import ServiceFactory
from vpnpanel import PanelClient

pytestmark = pytest.mark.django_db(transaction=True)

METERED = {"metric_download": True, "metric_upload": True}


@pytest.fixture
def service_on(customer):
    """A service in ``status`` whose client exists on the panel with 40 days of traffic history."""
    counter = iter(range(1, 1000))

    def make(simulator, server, product, *, status=ServiceStatus.ACTIVE) -> Service:
        name = f"vpn-usage-{server.pk}-{next(counter)}"
        if status != ServiceStatus.TERMINATED:
            simulator.knob(
                "POST",
                "clients",
                {"name": name, "network_name": "office", "created_days_ago": 40},
            )
        return ServiceFactory(
            customer=customer,
            product=product,
            server=server,
            network="office",
            remote_name=name,
            status=status,
            activated_at=timezone.now(),
        )

    return make


def panel_totals(simulator, name: str, year: int, month: int) -> tuple[int, int]:
    days = PanelClient(simulator.url, simulator.token).traffic(name, year, month)
    return sum(d.download for d in days), sum(d.upload for d in days)


def test_bytes_to_gb_is_decimal_gigabytes_rounded_to_a_megabyte():
    assert BYTES_PER_GB == 10**9
    assert bytes_to_gb(10**9) == Decimal("1.000")
    assert bytes_to_gb(2**30) == Decimal("1.074")  # a GiB is not a GB
    assert bytes_to_gb(1_499_999) == Decimal("0.001")
    assert bytes_to_gb(1_500_000) == Decimal("0.002")  # half up
    assert bytes_to_gb(0) == Decimal("0.000")
    assert isinstance(bytes_to_gb(123), Decimal)


def test_refresh_stores_the_sum_of_this_months_daily_rows(
    simulator, server_for, product_for, service_on
):
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office"), **METERED))
    today = timezone.now().date()
    before = panel_totals(simulator, service.remote_name, today.year, today.month)

    snapshot = service_usage_refresh(service_id=service.pk)

    after = panel_totals(simulator, service.remote_name, today.year, today.month)
    assert (snapshot.year, snapshot.month) == (today.year, today.month)
    # Today's row grows while we watch, so the panel's own sum brackets ours ...
    assert before[0] <= snapshot.download_bytes <= after[0]
    assert before[1] <= snapshot.upload_bytes <= after[1]
    assert snapshot.download_bytes > 0
    # ... and equals, to the byte, the rows the panel answered that call with (module log).
    entry = ModuleLogEntry.objects.get(service=service, action="usage")
    assert entry.path == f"client/{service.remote_name}/traffic/{today.year}/{today.month}"
    rows = entry.response["data"]
    assert len(rows) == today.day
    assert snapshot.download_bytes == sum(row["traffic_download"] for row in rows)
    assert snapshot.upload_bytes == sum(row["traffic_upload"] for row in rows)


def test_second_refresh_updates_the_same_snapshot(simulator, server_for, product_for, service_on):
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office"), **METERED))

    first = service_usage_refresh(service_id=service.pk)
    UsageSnapshot.objects.filter(pk=first.pk).update(download_bytes=0, upload_bytes=0)
    second = service_usage_refresh(service_id=service.pk)

    assert second.pk == first.pk
    assert UsageSnapshot.objects.filter(service=service).count() == 1
    assert second.download_bytes >= first.download_bytes > 0
    assert second.pulled_at > first.pulled_at


def test_pull_touches_only_active_and_suspended_metered_services(
    simulator, server_for, product_for, service_on
):
    server = server_for(simulator)
    metered = product_for((server, "office"), metric_download=True)
    flat = product_for((server, "office"), name="VPN flat")
    active = service_on(simulator, server, metered)
    suspended = service_on(simulator, server, metered, status=ServiceStatus.SUSPENDED)
    service_on(simulator, server, flat)
    service_on(simulator, server, metered, status=ServiceStatus.TERMINATED)
    service_on(simulator, server, metered, status=ServiceStatus.FAILED)

    summary = usage_pull_all()

    assert (summary.pulled, summary.failed) == (2, 0)
    assert set(UsageSnapshot.objects.values_list("service", flat=True)) == {
        active.pk,
        suspended.pk,
    }


@pytest.mark.parametrize("limit", [2, 4])
def test_pull_asks_each_panel_for_at_most_the_configured_number_at_once(
    limit, simulator, server_for, product_for, service_on, monkeypatch
):
    server = server_for(simulator)
    product = product_for((server, "office"), **METERED)
    services = [service_on(simulator, server, product) for _ in range(7)]
    simulator.knob("POST", "faults", {"latency_ms": 250})
    lock, in_flight, peak = threading.Lock(), [0], [0]
    real_traffic = PanelClient.traffic

    def counting_traffic(self, *args, **kwargs):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            return real_traffic(self, *args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(PanelClient, "traffic", counting_traffic)

    with override_settings(USAGE_PULL_CONCURRENCY_PER_PANEL=limit):
        summary = usage_pull_server(server_id=server.pk)

    assert (summary.pulled, summary.failed) == (len(services), 0)
    assert peak[0] == limit  # bounded, and the bound is actually used
    assert UsageSnapshot.objects.count() == len(services)


def test_one_failing_panel_or_service_does_not_stop_the_others(
    simulator_factory, server_for, product_for, service_on
):
    healthy_sim, down_sim = simulator_factory(), simulator_factory()
    healthy, down = server_for(healthy_sim), server_for(down_sim)
    product = product_for((healthy, "office"), (down, "office"), **METERED)
    good = [service_on(healthy_sim, healthy, product) for _ in range(2)]
    ghost = service_on(healthy_sim, healthy, product)
    healthy_sim.knob("DELETE", f"clients/{ghost.remote_name}")
    stranded = service_on(down_sim, down, product)
    down_sim.stop()

    summary = usage_pull_all()

    assert (summary.pulled, summary.failed) == (2, 2)
    assert set(UsageSnapshot.objects.values_list("service", flat=True)) == {s.pk for s in good}
    assert any(f"#{ghost.pk}" in error for error in summary.errors)
    assert any(f"#{stranded.pk}" in error for error in summary.errors)
    assert ModuleLogEntry.objects.filter(service=stranded, outcome="error").exists()


def test_pull_on_the_first_of_a_month_also_closes_the_previous_month(
    simulator, server_for, product_for, service_on
):
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office"), **METERED))
    first = timezone.now().date().replace(day=1)
    last_month = first - timedelta(days=1)

    usage_pull_server(server_id=server.pk, today=first)

    months = set(UsageSnapshot.objects.filter(service=service).values_list("year", "month"))
    assert months == {(first.year, first.month), (last_month.year, last_month.month)}
    closed = UsageSnapshot.objects.get(service=service, month=last_month.month)
    assert (closed.download_bytes, closed.upload_bytes) == panel_totals(
        simulator, service.remote_name, last_month.year, last_month.month
    )


def test_beat_and_refresh_tasks_pull_usage_on_the_worker(
    live_worker, simulator_factory, server_for, product_for, service_on
):
    sims = simulator_factory(), simulator_factory()
    servers = [server_for(sim) for sim in sims]
    product = product_for(*((server, "office") for server in servers), **METERED)
    pulled = [service_on(sim, server, product) for sim, server in zip(sims, servers, strict=True)]

    tasks.pull_usage.delay()  # the worker runs it and then one pull task per panel
    wait_until(lambda: UsageSnapshot.objects.count() == len(pulled))
    assert {s.service_id for s in UsageSnapshot.objects.all()} == {s.pk for s in pulled}

    UsageSnapshot.objects.all().delete()
    tasks.refresh_service_usage.delay(pulled[0].pk)
    wait_until(lambda: UsageSnapshot.objects.filter(service=pulled[0]).exists())
    this_month = date.today()
    snapshot = UsageSnapshot.objects.get(service=pulled[0])
    assert (snapshot.year, snapshot.month) == (this_month.year, this_month.month)


def wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        time.sleep(0.1)

"""The usage pull at scale: never two pulls of one panel at once (a lock in the cache that
expires by itself), every panel at once with each panel's bound kept, and no database
connection opened by a pool thread."""

import logging
import threading
import time
from collections import Counter

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import override_settings
from django.utils import timezone

from provisioning import usage
from provisioning.models import ModuleLogEntry, ServiceStatus, UsageSnapshot
from provisioning.usage import PullLock, usage_pull_all, usage_pull_server
from tests.factories import ServiceFactory
from vpnpanel import PanelClient

pytestmark = pytest.mark.django_db(transaction=True)

METERED = {"metric_download": True, "metric_upload": True}


@pytest.fixture
def panel_with_services(customer, server_for, product_for):
    """``make(simulator, count)``: a server row for the simulator and ``count`` active metered
    services whose clients exist on it (seeded in one knob call)."""

    def make(simulator, count: int):
        server = server_for(simulator)
        product = product_for((server, "office"), name=f"VPN scale {server.pk}", **METERED)
        prefix = f"scale-{server.pk}"
        simulator.knob(
            "POST",
            "clients/seed",
            {"prefix": prefix, "count": count, "network_name": "office", "created_days_ago": 5},
        )
        services = [
            ServiceFactory(
                customer=customer,
                product=product,
                server=server,
                network="office",
                remote_name=f"{prefix}-{n}",
                status=ServiceStatus.ACTIVE,
                activated_at=timezone.now(),
            )
            for n in range(1, count + 1)
        ]
        return server, services

    return make


def traffic_calls(simulator) -> int:
    return sum(1 for c in simulator.knob("GET", "calls") if "/traffic/" in c["path"])


# The lock ----------------------------------------------------------------------------------------


def test_two_pulls_of_one_panel_at_once_pull_it_once(simulator, panel_with_services):
    server, services = panel_with_services(simulator, 6)
    simulator.knob("POST", "faults", {"latency_ms": 200})
    simulator.knob("POST", "calls/reset")
    start = threading.Barrier(2)

    def pull() -> usage.UsagePullSummary:
        start.wait()
        return usage_pull_server(server_id=server.pk)

    summaries = run_in_threads(pull, pull)

    ran = [s for s in summaries if not s.skipped]
    skipped = [s for s in summaries if s.skipped]
    assert len(ran) == len(skipped) == 1
    assert (ran[0].pulled, ran[0].failed) == (len(services), 0)
    assert (skipped[0].pulled, skipped[0].failed) == (0, 0)
    assert skipped[0].skipped == [f"server #{server.pk}: already running"]
    assert traffic_calls(simulator) == len(services)  # each service asked once, not twice
    assert UsageSnapshot.objects.count() == len(services)


def test_a_pull_while_the_panel_is_held_does_nothing_and_says_so(
    simulator, panel_with_services, caplog
):
    server, _ = panel_with_services(simulator, 2)
    held = PullLock.acquire(f"server:{server.pk}")
    assert held is not None
    simulator.knob("POST", "calls/reset")

    with caplog.at_level(logging.INFO, logger="provisioning.usage"):
        summary = usage_pull_server(server_id=server.pk)

    assert summary.as_dict() == {
        "pulled": 0,
        "failed": 0,
        "errors": [],
        "skipped": [f"server #{server.pk}: already running"],
    }
    assert f"server #{server.pk} already running" in caplog.text
    assert traffic_calls(simulator) == 0
    held.release()
    assert usage_pull_server(server_id=server.pk).pulled == 2  # free again once released


def test_the_lock_of_a_worker_that_died_expires_by_itself(
    simulator, panel_with_services, monkeypatch
):
    server, _ = panel_with_services(simulator, 2)
    monkeypatch.setattr(usage, "LOCK_SECONDS", 1)
    assert PullLock.acquire(f"server:{server.pk}") is not None  # never released: the holder died

    assert usage_pull_server(server_id=server.pk).skipped
    time.sleep(1.2)
    summary = usage_pull_server(server_id=server.pk)

    assert (summary.pulled, summary.skipped) == (2, [])


def test_a_pull_longer_than_the_locks_life_keeps_it_renewed(
    simulator, panel_with_services, monkeypatch, settings
):
    """Each call slow, fewer results than a batch: the lock is renewed on its timer, so a
    second pull started after the lock's first life is still refused."""
    server, services = panel_with_services(simulator, 6)
    monkeypatch.setattr(usage, "LOCK_SECONDS", 1)
    settings.USAGE_PULL_CONCURRENCY_PER_PANEL = 1
    simulator.knob("POST", "faults", {"latency_ms": 400})  # about 2.4 s in all
    simulator.knob("POST", "calls/reset")

    def second() -> usage.UsagePullSummary:
        time.sleep(1.6)
        return usage_pull_server(server_id=server.pk)

    first, late = run_in_threads(lambda: usage_pull_server(server_id=server.pk), second)

    assert first.pulled == len(services)
    assert late.skipped == [f"server #{server.pk}: already running"]
    assert traffic_calls(simulator) == len(services)


def test_a_pull_that_fails_lets_go_of_its_locks(simulator, panel_with_services, monkeypatch):
    panel_with_services(simulator, 2)

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(usage, "_store_batch", broken)
    with pytest.raises(RuntimeError):
        usage_pull_all()
    monkeypatch.undo()

    assert usage_pull_all().pulled == 2


def test_a_second_pull_of_all_panels_does_nothing_while_one_runs(simulator, panel_with_services):
    panel_with_services(simulator, 2)
    held = PullLock.acquire("all")
    assert held is not None

    assert usage_pull_all().as_dict()["skipped"] == ["all panels: already running"]
    assert not UsageSnapshot.objects.exists()
    held.release()


def test_pull_all_leaves_a_panel_whose_own_pull_runs_and_pulls_the_others(
    simulator_factory, panel_with_services
):
    busy, (free_server, free_services) = (
        panel_with_services(simulator_factory(), 2),
        panel_with_services(simulator_factory(), 3),
    )
    held = PullLock.acquire(f"server:{busy[0].pk}")  # a beat task's pull of that panel

    summary = usage_pull_all()

    assert (summary.pulled, summary.failed) == (len(free_services), 0)
    assert summary.skipped == [f"server #{busy[0].pk}: already running"]
    assert set(UsageSnapshot.objects.values_list("service__server", flat=True)) == {free_server.pk}
    held.release()


# Panels in parallel, each bounded -----------------------------------------------------------------


def test_pull_all_asks_every_panel_at_once_each_at_most_the_bound(
    simulator_factory, panel_with_services, monkeypatch
):
    sims = [simulator_factory() for _ in range(3)]
    panels = [panel_with_services(sim, 5) for sim in sims]
    for sim in sims:
        sim.knob("POST", "faults", {"latency_ms": 250})
    in_flight, peaks, lock = Counter(), Counter(), threading.Lock()
    real_traffic = PanelClient.traffic

    def counting_traffic(self, *args, **kwargs):
        port = int(self.base_url.rsplit(":", 1)[1])
        with lock:
            in_flight[port] += 1
            peaks[port] = max(peaks[port], in_flight[port])
            peaks["all"] = max(peaks["all"], sum(in_flight.values()))
        try:
            return real_traffic(self, *args, **kwargs)
        finally:
            with lock:
                in_flight[port] -= 1

    monkeypatch.setattr(PanelClient, "traffic", counting_traffic)
    connected_from = record_connecting_threads(monkeypatch)

    with override_settings(USAGE_PULL_CONCURRENCY_PER_PANEL=2):
        started = time.perf_counter()
        summary = usage_pull_all()
        elapsed = time.perf_counter() - started

    assert (summary.pulled, summary.failed) == (15, 0)
    assert [peaks[sim.port] for sim in sims] == [2, 2, 2]  # each panel's bound, used
    assert peaks["all"] == 6  # the three panels at the same time
    # 15 calls of 250 ms, 6 at a time: 3 rounds (0.75 s); one panel after another would be 9.
    assert elapsed < 2.0
    assert UsageSnapshot.objects.count() == 15
    assert ModuleLogEntry.objects.filter(action="usage").count() == 15
    assert not [name for name in connected_from if name.startswith("usage-")]
    assert {s.service.server_id for s in UsageSnapshot.objects.select_related("service")} == {
        server.pk for server, _ in panels
    }


def test_batches_store_every_snapshot_and_log_row(simulator, panel_with_services, monkeypatch):
    _, services = panel_with_services(simulator, 7)
    monkeypatch.setattr(usage, "STORE_BATCH", 3)  # 3 + 3 + 1
    batches = []
    real_stored = usage._stored
    monkeypatch.setattr(usage, "_stored", lambda snapshots: batches.append(len(snapshots)))

    summary = usage_pull_all()

    assert (summary.pulled, summary.failed) == (7, 0)
    assert sorted(batches) == [1, 3, 3]
    assert UsageSnapshot.objects.count() == 7
    assert ModuleLogEntry.objects.filter(action="usage", outcome="ok").count() == 7
    monkeypatch.setattr(usage, "_stored", real_stored)
    UsageSnapshot.objects.update(download_bytes=0)
    usage_pull_all()  # the second pull updates the same rows
    assert UsageSnapshot.objects.count() == 7
    assert not UsageSnapshot.objects.filter(download_bytes=0).exists()
    assert {s.service_id for s in UsageSnapshot.objects.all()} == {s.pk for s in services}


# Helpers -----------------------------------------------------------------------------------------


def run_in_threads(*functions):
    """Run each function in a thread of its own (closing its database connection) → results."""
    from django.db import connection

    results, errors = [None] * len(functions), []

    def run(index, function):
        try:
            results[index] = function()
        except BaseException as exc:  # raised below, on the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def record_connecting_threads(monkeypatch) -> list[str]:
    """Names of the threads that open a database connection from now on."""
    names: list[str] = []
    real_connect = BaseDatabaseWrapper.connect

    def connect(self):
        names.append(threading.current_thread().name)
        return real_connect(self)

    monkeypatch.setattr(BaseDatabaseWrapper, "connect", connect)
    return names

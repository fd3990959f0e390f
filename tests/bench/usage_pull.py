"""The ``usage_pull`` scenario: the hourly usage pull of N metered services on P panels, each
panel a simulator subprocess answering every API call after ``PANEL_LATENCY_MS``, against a
serial pull (one service after another, as the seed's metric provider does) of a sample.

The pull is ``usage_pull_all`` (every panel at once, ``USAGE_PULL_CONCURRENCY_PER_PANEL`` calls
at once per panel, snapshots and module log written in batches by the calling thread). The serial
pull is ``service_usage_refresh`` of each sampled service in turn; its time, scaled to N, is the
estimate the ratio divides by the pull's wall time.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.bench.report import summarize

if TYPE_CHECKING:
    from provisioning.models import Server
    from tests.bench.scenarios import Sizes
    from vpnpanel.simulator.process import SimulatorProcess

PANEL_LATENCY_MS = 50
GOAL_RATIO = 20.0
NETWORK = "usage=10.30.0.0/18"  # 16k addresses: room for any panel's share
HISTORY_DAYS = 40  # every client has traffic this month and last


def usage_pull(simulator: SimulatorProcess, sizes: Sizes) -> dict[str, Any]:
    """Seed ``sizes.usage_services`` services over ``sizes.usage_panels`` slow panels, pull them
    all, then pull ``sizes.usage_serial_sample`` of them one after another.

    The run's shared ``simulator`` answers at once: this scenario starts slow ones of its own.
    """
    from django.conf import settings

    from provisioning.models import ModuleLogEntry, UsageSnapshot
    from provisioning.usage import service_usage_refresh, usage_pull_all

    var_dir = Path(os.environ["PORTAL_VAR_DIR"])
    load = os.getloadavg()[0]
    panels, total = sizes.usage_panels, sizes.usage_services
    per_panel = [total // panels + (1 if n < total % panels else 0) for n in range(panels)]
    with _slow_simulators(var_dir / "usage-pull-sims", per_panel) as sims:
        started = time.perf_counter()
        service_ids = _seed(sims, per_panel)
        seeding = time.perf_counter() - started

        started, cpu_before, panels_before = time.perf_counter(), _cpu_self(), _cpu_of(sims)
        summary = usage_pull_all()
        wall = time.perf_counter() - started
        cpu_portal, cpu_panels = _cpu_self() - cpu_before, _cpu_of(sims) - panels_before
        if (summary.pulled, summary.failed, summary.skipped) != (total, 0, []):
            raise RuntimeError(f"the pull of {total} services answered {summary.as_dict()}")
        if UsageSnapshot.objects.count() != total:
            raise RuntimeError(f"{UsageSnapshot.objects.count()} snapshots for {total} services")

        sample = service_ids[:: max(1, total // sizes.usage_serial_sample)]
        sample = sample[: sizes.usage_serial_sample]
        serial = [_timed(lambda pk=pk: service_usage_refresh(service_id=pk)) for pk in sample]
    serial_estimate = statistics.fmean(serial) * total
    ratio = serial_estimate / wall
    result = summarize(
        serial,
        elapsed=wall,
        wall_s=round(wall, 2),
        serial_sample=len(serial),
        serial_estimate_s=round(serial_estimate, 1),
        ratio=round(ratio, 1),
        goal_ratio=GOAL_RATIO,
        panels=panels,
        per_panel_at_once=settings.USAGE_PULL_CONCURRENCY_PER_PANEL,
        latency_ms=PANEL_LATENCY_MS,
        cpu_portal_s=round(cpu_portal, 1),
        cpu_panels_s=round(cpu_panels, 1),
        load_before=round(load, 1),
        log_rows=ModuleLogEntry.objects.filter(action="usage").count(),
        seeding_s=round(seeding, 1),
    )
    # count and ops/s are the pull's: services, and services a second of its wall time.
    result.update(count=total, ops_per_s=round(total / wall, 2))
    return {**result, "verdict": _verdict(result)}


def _verdict(result: dict[str, Any]) -> str:
    notes = result["extra"]
    met = "met" if notes["ratio"] >= GOAL_RATIO else "NOT met"
    return (
        f"usage pull ({result['count']} services on {notes['panels']} panels, "
        f"{PANEL_LATENCY_MS} ms per panel call, {notes['per_panel_at_once']} at once per panel): "
        f"{notes['wall_s']:.1f} s; serial {notes['serial_sample']} services one after another "
        f"(median {result['median_ms']:.0f} ms each) → {result['count']} ≈ "
        f"{notes['serial_estimate_s']:.0f} s; {notes['ratio']:.1f}x faster than serial; "
        f"goal ≥ {GOAL_RATIO:.0f}x: {met}"
    )


def _cpu_self() -> float:
    """CPU seconds (user + system) of this process, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_of(sims: list[SimulatorProcess]) -> float:
    """CPU seconds the simulator processes used so far (Linux ``/proc``; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for sim in sims:
        try:
            fields = Path(f"/proc/{sim.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _timed(operation) -> float:
    started = time.perf_counter()
    operation()
    return time.perf_counter() - started


@contextmanager
def _slow_simulators(data_dir: Path, per_panel: list[int]) -> Iterator[list[SimulatorProcess]]:
    """One simulator per panel, started together, each with room for its share of clients."""
    from vpnpanel.simulator.process import SimulatorProcess

    extra = [f"--latency-ms={PANEL_LATENCY_MS}"]
    sims = [
        SimulatorProcess(data_dir / str(n), networks=[NETWORK], slots=count + 10, extra_args=extra)
        for n, count in enumerate(per_panel)
    ]
    with ExitStack() as stack:
        for sim in sims:
            stack.callback(sim.stop)
        with ThreadPoolExecutor(max_workers=len(sims)) as pool:
            list(pool.map(SimulatorProcess.start, sims))
        yield sims


def _seed(sims: list[SimulatorProcess], per_panel: list[int]) -> list[int]:
    """Each panel's clients in one knob call (in parallel), and their services in bulk inserts:
    active, on a metered product, one customer for all. Returns the services' ids."""
    from django.utils import timezone

    from provisioning.models import Service, ServiceStatus

    network = NETWORK.split("=")[0]
    from tests.factories import ServerGroupFactory

    group = ServerGroupFactory(name="Bench usage pull")
    servers = [_server(sim, n, group) for n, sim in enumerate(sims)]
    product = _product(servers, network, group)
    customer = _customer()

    def seed_panel(n: int) -> None:
        body = {
            "prefix": _prefix(n),
            "count": per_panel[n],
            "network_name": network,
            "created_days_ago": HISTORY_DAYS,
        }
        sims[n].knob("POST", "clients/seed", body)

    with ThreadPoolExecutor(max_workers=len(sims)) as pool:
        list(pool.map(seed_panel, range(len(sims))))
    now = timezone.now()
    services = [
        Service(
            customer=customer,
            product=product,
            server=server,
            network=network,
            remote_name=f"{_prefix(n)}-{k}",
            status=ServiceStatus.ACTIVE,
            create_posted_at=now,
            activated_at=now,
        )
        for n, server in enumerate(servers)
        for k in range(1, per_panel[n] + 1)
    ]
    Service.objects.bulk_create(services, batch_size=1000)
    return list(Service.objects.filter(product=product).order_by("pk").values_list("pk", flat=True))


def _prefix(n: int) -> str:
    return f"usage-p{n}"


def _server(sim: SimulatorProcess, n: int, group) -> Server:
    from tests.factories import ServerFactory

    return ServerFactory.for_simulator(sim, name=f"bench-usage-{n}", group=group)


def _product(servers: list[Server], network: str, group):
    from tests.factories import ProductFactory

    targets = [{"server_id": server.pk, "network": network} for server in servers]
    return ProductFactory(
        name="VPN metered",
        group=group,
        settings={"deploy_targets": targets, "metric_download": True, "metric_upload": True},
    )


def _customer():
    from tests.factories import CustomerFactory

    return CustomerFactory(user__username="bench-usage")

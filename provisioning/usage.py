"""Usage metrics: each metered service's traffic this calendar month, pulled from its panel.

As the seed's metric provider does, the month's total is the sum of the panel's per-day rows from
``GET client/{name}/traffic/{Y}/{m}``; we keep it as a :class:`UsageSnapshot` (history, and the
fallback when a panel is down at invoice time). Months and days are UTC, as the panel's are.

Pulled: active and suspended services whose product has a metric on. Suspended ones too: they
used traffic this month before they were suspended, and that traffic is billable.

The bulk pull asks every panel at once, and each panel for at most
``USAGE_PULL_CONCURRENCY_PER_PANEL`` services at once, over that many kept-alive connections.
Only the HTTP runs in the worker threads; the calling thread writes the snapshots and the module
log in batches (one bulk insert each), so no database connection is ever opened by a thread. A
lock in the cache per panel (and one for "all panels") keeps a pull from overlapping itself.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from provisioning.exceptions import NotOnPanel
from provisioning.models import (
    BYTES_PER_GB,
    ON_PANEL_STATUSES,
    ModuleLogEntry,
    Server,
    Service,
    UsageSnapshot,
)
from provisioning.panels import module_log_recorder, panel_for
from provisioning.usage_alerts import usage_alerts_check
from vpnpanel import CallRecord, PanelClient, PanelError, RetryPolicy

logger = logging.getLogger(__name__)

GB_QUANTUM = Decimal("0.001")


def bytes_to_gb(value: int) -> Decimal:
    """Bytes as decimal GB, rounded half-up to 0.001 GB (1 MB): what billing multiplies by price."""
    return (Decimal(int(value)) / BYTES_PER_GB).quantize(GB_QUANTUM, rounding=ROUND_HALF_UP)


@dataclass
class UsagePullSummary:
    """Counts of one bulk pull; ``errors`` name each failed service and why, ``skipped`` each
    panel (or "all panels") left alone because a pull of it was already running."""

    pulled: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # what another pull still running holds

    def merge(self, other: UsagePullSummary) -> None:
        self.pulled += other.pulled
        self.failed += other.failed
        self.errors.extend(other.errors)
        self.skipped.extend(other.skipped)

    def as_dict(self) -> dict[str, object]:
        return {
            "pulled": self.pulled,
            "failed": self.failed,
            "errors": self.errors,
            "skipped": self.skipped,
        }


def service_usage_refresh(
    *,
    service_id: int,
    today: date | None = None,
    retry: RetryPolicy | None = None,
    year: int | None = None,
    month: int | None = None,
) -> UsageSnapshot:
    """Pull this month's traffic of one service now and store it (the admin's "Refresh now");
    with ``year`` and ``month``, that month's instead (billing reads a finished month so).

    ``retry`` overrides the settings' policy: the admin page, where someone waits, passes a
    single attempt. Raises :class:`NotOnPanel` when the service has no client, and the panel's
    :class:`PanelError` (with ``transient``) when the panel cannot tell.
    """
    service = Service.objects.select_related("server").get(pk=service_id)
    if service.server is None or not service.remote_name:
        raise NotOnPanel("This service has no client on a panel.")
    if year is None or month is None:
        year, month = current_month(today)
    fetched = _fetch(service.server, service.remote_name, year, month, retry=retry)
    _log_calls(service, fetched.calls, uuid.uuid4())
    if fetched.error is not None:
        raise fetched.error
    return _store(service, year, month, fetched)


def metered_services(*, server_id: int | None = None) -> list[Service]:
    """Services whose usage is pulled: active or suspended, on a panel, product metered."""
    candidates = (
        Service.objects.filter(status__in=ON_PANEL_STATUSES, server__isnull=False)
        .exclude(remote_name="")
        .select_related("server", "product")
        .order_by("pk")
    )
    if server_id is not None:
        candidates = candidates.filter(server_id=server_id)
    metered: dict[int, bool] = {}  # per product: parsing its settings once, not once a service
    for service in candidates:
        if service.product_id not in metered:
            metered[service.product_id] = service.product.typed_settings.metered
    return [service for service in candidates if metered[service.product_id]]


def usage_servers_to_pull() -> list[int]:
    """Servers with at least one metered service, enabled or not: existing usage is still billed."""
    return sorted({service.server_id for service in metered_services()})


def usage_pull_server(*, server_id: int, today: date | None = None) -> UsagePullSummary:
    """Pull every metered service on one panel, at most N at a time; failures are counted.

    Does nothing (``skipped`` says why) while another pull of this panel runs.
    """
    server = Server.objects.get(pk=server_id)
    lock = PullLock.acquire(f"server:{server.pk}")
    if lock is None:
        return _already_running(f"server #{server.pk}")
    try:
        return _pull({server.pk: metered_services(server_id=server.pk)}, today, locks=[lock])
    finally:
        lock.release()


def usage_pull_all(*, today: date | None = None) -> UsagePullSummary:
    """Pull every panel at once, each with its bounded pool; one failing panel stops nothing.

    The beat task fans out one task per panel instead; this is the synchronous equivalent. A
    panel whose own pull is running (a beat task's) is skipped, and so is the whole call while
    another ``usage_pull_all`` runs.
    """
    lock = PullLock.acquire("all")
    if lock is None:
        return _already_running("all panels")
    locks, skipped = [lock], UsagePullSummary()
    try:
        by_server: dict[int, list[Service]] = {}
        for service in metered_services():
            by_server.setdefault(service.server_id, []).append(service)
        for server_id in list(by_server):
            panel_lock = PullLock.acquire(f"server:{server_id}")
            if panel_lock is None:
                skipped.merge(_already_running(f"server #{server_id}"))
                del by_server[server_id]
            else:
                locks.append(panel_lock)
        summary = _pull(by_server, today, locks=locks)
        summary.merge(skipped)
        return summary
    finally:
        for held in locks:
            held.release()


# The lock ----------------------------------------------------------------------------------------

LOCK_PREFIX = "usage-pull"
LOCK_SECONDS = 600
"""A pull's lock lives this long unless renewed; a timer thread renews it every third of that
while the pull runs (whatever its panels answer, or fail to), so only a worker that died or
froze lets it lapse, and then the panel is free again within ten minutes."""


@dataclass
class PullLock:
    """A lock in the cache (Redis in production, so across worker processes): ``cache.add``
    takes it, it expires by itself, and only its holder renews or releases it."""

    key: str
    token: str

    @classmethod
    def acquire(cls, name: str) -> PullLock | None:
        lock = cls(f"{LOCK_PREFIX}:{name}", uuid.uuid4().hex)
        return lock if cache.add(lock.key, lock.token, timeout=LOCK_SECONDS) else None

    def renew(self) -> None:
        if self._ours():
            cache.touch(self.key, LOCK_SECONDS)

    def release(self) -> None:
        # If ours expired mid-pull, another pull's lock must survive.
        if self._ours():
            cache.delete(self.key)

    def _ours(self) -> bool:
        return cache.get(self.key) == self.token


@contextmanager
def _kept(locks: list[PullLock]) -> Iterator[None]:
    """Renew ``locks`` every third of ``LOCK_SECONDS`` on a timer thread (cache calls only, no
    database) for as long as the block runs."""
    done = threading.Event()

    def renew() -> None:
        while not done.wait(LOCK_SECONDS / 3):
            for lock in locks:
                lock.renew()

    renewer = threading.Thread(target=renew, name="usage-pull-lock", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()


def _already_running(what: str) -> UsagePullSummary:
    logger.info("Usage pull of %s already running; this one does nothing", what)
    return UsagePullSummary(skipped=[f"{what}: already running"])


# Internals ---------------------------------------------------------------------------------------

STORE_BATCH = 500
"""Results written per batch: one bulk insert of module-log rows and one of snapshots."""


@dataclass
class _Fetched:
    download: int = 0
    upload: int = 0
    error: Exception | None = None  # a PanelError, unless a bug
    calls: list[CallRecord] = field(default_factory=list)


@dataclass(frozen=True)
class _Job:
    service: Service
    year: int
    month: int


class _Lanes:
    """A panel's ``USAGE_PULL_CONCURRENCY_PER_PANEL`` connections: a pool thread borrows one
    for each call, so each connection is kept alive across calls instead of opened per call.
    HTTP only: nothing here touches the database."""

    def __init__(self, server: Server, count: int) -> None:
        self._idle: queue.SimpleQueue[tuple[PanelClient, list[CallRecord]]] = queue.SimpleQueue()
        self._all: list[PanelClient] = []
        for _ in range(count):
            calls: list[CallRecord] = []
            panel = panel_for(server, action="usage", deferred_log=calls.append)
            self._all.append(panel)
            self._idle.put((panel, calls))

    def fetch(self, remote_name: str, year: int, month: int) -> _Fetched:
        panel, calls = self._idle.get()
        try:
            return _read(panel, remote_name, year, month, calls)
        finally:
            self._idle.put((panel, calls))

    def close(self) -> None:
        for panel in self._all:
            panel.close()


def _pull(
    by_server: dict[int, list[Service]], today: date | None, *, locks: list[PullLock]
) -> UsagePullSummary:
    """Every panel's services at once, each panel with a pool of its own (the per-panel bound);
    the calling thread writes the results in batches as they come in."""
    months = _months_to_pull(today)
    summary = UsagePullSummary()
    run_id = uuid.uuid4()
    futures: dict[Future[_Fetched], _Job] = {}
    with ExitStack() as stack:
        for services in by_server.values():
            jobs = [_Job(service, y, m) for service in services for y, m in months]
            if not jobs:
                continue
            workers = min(settings.USAGE_PULL_CONCURRENCY_PER_PANEL, len(jobs))
            server = services[0].server
            try:
                lanes = _Lanes(server, workers)
            except ValueError as exc:  # no usable address or token: this panel only
                _fail_panel(summary, server, exc)
                continue
            stack.callback(lanes.close)
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"usage-{server.pk}")
            stack.callback(pool.shutdown, cancel_futures=True)
            for job in jobs:
                future = pool.submit(lanes.fetch, job.service.remote_name, job.year, job.month)
                futures[future] = job
        stack.enter_context(_kept(locks))
        batch: list[tuple[_Job, _Fetched]] = []
        for future in as_completed(futures):
            batch.append((futures[future], _result(future)))
            if len(batch) >= STORE_BATCH:
                _store_batch(batch, run_id, summary)
                batch = []
        _store_batch(batch, run_id, summary)
    if summary.failed:
        logger.warning("Usage pull: %d pulled, %d failed", summary.pulled, summary.failed)
    return summary


def _result(future: Future[_Fetched]) -> _Fetched:
    try:
        return future.result()
    except Exception as exc:  # a bug, not a panel answer: this service fails, the others go on
        logger.exception("Usage pull: a traffic call failed unexpectedly")
        return _Fetched(error=exc)


def _fail_panel(summary: UsagePullSummary, server: Server, exc: Exception) -> None:
    logger.warning("Usage pull on %s not possible: %s", server, exc)
    summary.failed += 1
    summary.errors.append(f"server #{server.pk}: {exc}")


def _store_batch(
    batch: list[tuple[_Job, _Fetched]], run_id: uuid.UUID, summary: UsagePullSummary
) -> None:
    """One batch's module-log rows, then its snapshots, each in one bulk insert."""
    if not batch:
        return
    entries = [
        module_log_recorder(
            job.service.server, action="usage", service=job.service, correlation_id=run_id
        ).entry(record)
        for job, fetched in batch
        for record in fetched.calls
    ]
    ModuleLogEntry.objects.bulk_create(entries, batch_size=STORE_BATCH)
    good = []
    for job, fetched in batch:
        if fetched.error is None:
            good.append((job.service, job.year, job.month, fetched))
            continue
        summary.failed += 1
        summary.errors.append(
            f"service #{job.service.pk} {job.year}-{job.month:02d}: {fetched.error}"
        )
    try:
        _stored(_upsert(good))
    except Exception as exc:  # a batch the database refused: counted, the next batches go on
        logger.exception("Usage pull: storing %d snapshots failed", len(good))
        summary.failed += len(good)
        summary.errors.extend(f"service #{service.pk}: {exc}" for service, *_ in good)
    else:
        summary.pulled += len(good)


def _upsert(results: list[tuple[Service, int, int, _Fetched]]) -> list[UsageSnapshot]:
    """Insert or update each (service, month)'s snapshot in one statement per batch."""
    now = timezone.now()
    snapshots = [
        UsageSnapshot(
            service=service,
            year=year,
            month=month,
            download_bytes=fetched.download,
            upload_bytes=fetched.upload,
            pulled_at=now,
        )
        for service, year, month, fetched in results
    ]
    return UsageSnapshot.objects.bulk_create(
        snapshots,
        batch_size=STORE_BATCH,
        update_conflicts=True,
        unique_fields=["service", "year", "month"],
        update_fields=["download_bytes", "upload_bytes", "pulled_at"],
    )


def _stored(snapshots: list[UsageSnapshot]) -> None:
    """Called once per batch of snapshots just stored (a pull's batches, a single refresh):
    whatever follows a fresh reading hooks in here."""
    if snapshots:
        usage_alerts_check(snapshots)


def _fetch(
    server: Server, remote_name: str, year: int, month: int, *, retry: RetryPolicy | None = None
) -> _Fetched:
    """One month's totals of one client on a connection of its own. HTTP only (safe in a
    thread); never raises PanelError."""
    calls: list[CallRecord] = []
    with panel_for(server, action="usage", deferred_log=calls.append, retry=retry) as panel:
        return _read(panel, remote_name, year, month, calls)


def _read(
    panel: PanelClient, remote_name: str, year: int, month: int, calls: list[CallRecord]
) -> _Fetched:
    """Ask ``panel``; the call records that ``panel`` appended to ``calls`` move to the result."""
    fetched = _Fetched()
    try:
        days = panel.traffic(remote_name, year, month)
    except PanelError as exc:
        fetched.error = exc
        return fetched
    finally:
        fetched.calls, calls[:] = list(calls), []
    in_month = [day for day in days if (day.day.year, day.day.month) == (year, month)]
    fetched.download = sum(day.download for day in in_month)
    fetched.upload = sum(day.upload for day in in_month)
    return fetched


def _log_calls(service: Service, calls: Iterable[CallRecord], run_id: uuid.UUID) -> None:
    recorder = module_log_recorder(
        service.server, action="usage", service=service, correlation_id=run_id
    )
    for record in calls:
        recorder(record)


def _store(service: Service, year: int, month: int, fetched: _Fetched) -> UsageSnapshot:
    (snapshot,) = _upsert([(service, year, month, fetched)])
    _stored([snapshot])
    return snapshot


def current_month(today: date | None = None) -> tuple[int, int]:
    """(year, month) of ``today``, by default the current UTC calendar month."""
    today = today or timezone.now().date()
    return today.year, today.month


def _months_to_pull(today: date | None) -> list[tuple[int, int]]:
    """This month; on the 1st also the previous one, so its last hours make it into the snapshot."""
    today = today or timezone.now().date()
    months = [(today.year, today.month)]
    if today.day == 1:
        last = today - timedelta(days=1)
        months.insert(0, (last.year, last.month))
    return months

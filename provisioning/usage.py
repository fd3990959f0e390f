"""Usage metrics: each metered service's traffic this calendar month, pulled from its panel.

As the seed's metric provider does, the month's total is the sum of the panel's per-day rows from
``GET client/{name}/traffic/{Y}/{m}``; we keep it as a :class:`UsageSnapshot` (history, and the
fallback when a panel is down at invoice time). Months and days are UTC, as the panel's are.

Pulled: active and suspended services whose product has a metric on. Suspended ones too: they
used traffic this month before they were suspended, and that traffic is billable.

The bulk pull asks each panel for at most ``USAGE_PULL_CONCURRENCY_PER_PANEL`` services at once.
Only the HTTP runs in the worker threads; the main thread writes the snapshots and the module log,
so no database connection is ever opened by a thread.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from provisioning.exceptions import NotOnPanel
from provisioning.models import BYTES_PER_GB, ON_PANEL_STATUSES, Server, Service, UsageSnapshot
from provisioning.panels import module_log_recorder, panel_for
from provisioning.usage_alerts import usage_alerts_check
from vpnpanel import CallRecord, PanelError, RetryPolicy

logger = logging.getLogger(__name__)

GB_QUANTUM = Decimal("0.001")


def bytes_to_gb(value: int) -> Decimal:
    """Bytes as decimal GB, rounded half-up to 0.001 GB (1 MB): what billing multiplies by price."""
    return (Decimal(int(value)) / BYTES_PER_GB).quantize(GB_QUANTUM, rounding=ROUND_HALF_UP)


@dataclass
class UsagePullSummary:
    """Counts of one bulk pull; ``errors`` name each failed service and why."""

    pulled: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def merge(self, other: UsagePullSummary) -> None:
        self.pulled += other.pulled
        self.failed += other.failed
        self.errors.extend(other.errors)

    def as_dict(self) -> dict[str, object]:
        return {"pulled": self.pulled, "failed": self.failed, "errors": self.errors}


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
    return [service for service in candidates if service.product.typed_settings.metered]


def usage_servers_to_pull() -> list[int]:
    """Servers with at least one metered service, enabled or not: existing usage is still billed."""
    return sorted({service.server_id for service in metered_services()})


def usage_pull_server(*, server_id: int, today: date | None = None) -> UsagePullSummary:
    """Pull every metered service on one panel, at most N at a time; failures are counted."""
    server = Server.objects.get(pk=server_id)
    months = _months_to_pull(today)
    jobs = [(service, y, m) for service in metered_services(server_id=server.pk) for y, m in months]
    summary = UsagePullSummary()
    if not jobs:
        return summary
    run_id = uuid.uuid4()
    workers = min(settings.USAGE_PULL_CONCURRENCY_PER_PANEL, len(jobs))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"usage-{server.pk}") as pool:
        futures = {
            pool.submit(_fetch, server, service.remote_name, year, month): (service, year, month)
            for service, year, month in jobs
        }
        for future in as_completed(futures):
            service, year, month = futures[future]
            try:
                fetched = future.result()
                _log_calls(service, fetched.calls, run_id)
                if fetched.error is not None:
                    raise fetched.error
                _store(service, year, month, fetched)
            except Exception as exc:  # one service's failure must not stop the others
                if not isinstance(exc, PanelError):
                    logger.exception("Usage pull of service %s failed", service.pk)
                summary.failed += 1
                summary.errors.append(f"service #{service.pk} {year}-{month:02d}: {exc}")
            else:
                summary.pulled += 1
    if summary.failed:
        logger.warning(
            "Usage pull on %s: %d pulled, %d failed", server, summary.pulled, summary.failed
        )
    return summary


def usage_pull_all(*, today: date | None = None) -> UsagePullSummary:
    """Pull every panel in turn (each with its bounded pool); one failing panel stops nothing.

    The beat task fans out one task per panel instead; this is the synchronous equivalent.
    """
    summary = UsagePullSummary()
    for server_id in usage_servers_to_pull():
        try:
            summary.merge(usage_pull_server(server_id=server_id, today=today))
        except Exception as exc:  # a broken panel row must not stop the other panels
            logger.exception("Usage pull on server %s failed", server_id)
            summary.failed += 1
            summary.errors.append(f"server #{server_id}: {exc}")
    return summary


# Internals ---------------------------------------------------------------------------------------


@dataclass
class _Fetched:
    download: int = 0
    upload: int = 0
    error: PanelError | None = None
    calls: list[CallRecord] = field(default_factory=list)


def _fetch(
    server: Server, remote_name: str, year: int, month: int, *, retry: RetryPolicy | None = None
) -> _Fetched:
    """One month's totals of one client. HTTP only (safe in a thread); never raises PanelError."""
    fetched = _Fetched()
    panel = panel_for(server, action="usage", deferred_log=fetched.calls.append, retry=retry)
    try:
        with panel:
            days = panel.traffic(remote_name, year, month)
    except PanelError as exc:
        fetched.error = exc
        return fetched
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
    snapshot, _ = UsageSnapshot.objects.update_or_create(
        service=service,
        year=year,
        month=month,
        defaults={
            "download_bytes": fetched.download,
            "upload_bytes": fetched.upload,
            "pulled_at": timezone.now(),
        },
    )
    usage_alerts_check([snapshot])
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

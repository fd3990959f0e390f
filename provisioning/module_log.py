"""Records the panel calls of a provisioning step as ModuleLogEntry rows (already redacted)."""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from provisioning.models import CallOutcome, ModuleLogEntry, Server, Service
from vpnpanel import CallRecord

logger = logging.getLogger(__name__)

SAMPLE_KEY_PREFIX = "module-log:ok"


@dataclass(frozen=True)
class ModuleLogRecorder:
    """The ``on_call`` hook of a panel client: one row per attempt, written immediately.

    Rows are written outside any transaction of the caller's, so a failed step keeps its log.
    ``ok_reads_every_seconds`` samples successful reads (GET): at most one is logged per that many
    seconds per server and action (a cache key marks the last one logged), and the first success
    after a failure always; failures and writes are always logged. 0 logs every call.
    """

    server: Server | None
    service: Service | None
    action: str
    correlation_id: uuid.UUID
    ok_reads_every_seconds: int = 0

    def __call__(self, record: CallRecord) -> None:
        if self.ok_reads_every_seconds > 0 and not self._sampled(record):
            return
        self.entry(record).save()

    def entry(self, record: CallRecord) -> ModuleLogEntry:
        """The unsaved row of ``record`` (no sampling), for callers that write rows in bulk."""
        return ModuleLogEntry(
            server=self.server,
            service=self.service,
            action=self.action,
            method=record.method,
            path=_storable(record.path)[:300],
            request=_json_safe(record.request),
            response=_json_safe(record.response),
            http_status=record.status,
            duration_ms=record.duration_ms,
            outcome=CallOutcome.OK if record.outcome == "ok" else CallOutcome.ERROR,
            error=_storable(record.error),
            attempt=record.attempt,
            correlation_id=self.correlation_id,
        )

    def _sampled(self, record: CallRecord) -> bool:
        """Whether ``record`` is logged; ``cache.add`` lets one good read per period through."""
        server_id = self.server.pk if self.server else "-"
        key = f"{SAMPLE_KEY_PREFIX}:{self.action}:{server_id}"
        if record.outcome != "ok":
            cache.delete(key)
            return True
        if record.method != "GET":
            return True
        return cache.add(key, True, timeout=self.ok_reads_every_seconds)


def _json_safe(value: object) -> object:
    if isinstance(value, str):
        return _storable(value)
    if value is None or isinstance(value, int | float | bool):
        return value
    if isinstance(value, dict):
        return {_storable(str(key)): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return _storable(str(value))


def _storable(text: str) -> str:
    """PostgreSQL text and jsonb cannot hold NUL: a garbage answer's NULs would lose its row."""
    return text.replace("\x00", "\ufffd")


def module_log_cleanup(*, older_than_days: int | None = None, batch_size: int = 1000) -> int:
    """Delete module-log rows older than the retention period; returns how many were deleted.

    Deletes in batches of primary keys so that a large backlog never holds one long lock on the
    table (the log is written to by every worker while this runs).
    """
    days = settings.MODULE_LOG_RETENTION_DAYS if older_than_days is None else older_than_days
    if days < 1:
        raise ValueError(f"Module-log retention must be at least one day, got {days}")
    if batch_size < 1:
        raise ValueError(f"Batch size must be positive, got {batch_size}")
    cutoff = timezone.now() - timedelta(days=days)
    old = ModuleLogEntry.objects.filter(created_at__lt=cutoff).order_by("pk")
    deleted = 0
    while batch := list(old.values_list("pk", flat=True)[:batch_size]):
        count, _ = ModuleLogEntry.objects.filter(pk__in=batch).delete()
        deleted += count
    if deleted:
        logger.info("Module log: deleted %d entries older than %d days", deleted, days)
    return deleted

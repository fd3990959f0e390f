"""Records every panel call of a provisioning step as a ModuleLogEntry (already redacted)."""

import logging
import uuid
from dataclasses import dataclass

from provisioning.models import CallOutcome, ModuleLogEntry, Server, Service
from vpnpanel import CallRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModuleLogRecorder:
    """The ``on_call`` hook of a panel client: one row per attempt, written immediately.

    Rows are written outside any transaction of the caller's, so a failed step keeps its log.
    """

    server: Server | None
    service: Service | None
    action: str
    correlation_id: uuid.UUID

    def __call__(self, record: CallRecord) -> None:
        ModuleLogEntry.objects.create(
            server=self.server,
            service=self.service,
            action=self.action,
            method=record.method,
            path=record.path[:300],
            request=_json_safe(record.request),
            response=_json_safe(record.response),
            http_status=record.status,
            duration_ms=record.duration_ms,
            outcome=CallOutcome.OK if record.outcome == "ok" else CallOutcome.ERROR,
            error=record.error,
            attempt=record.attempt,
            correlation_id=self.correlation_id,
        )


def _json_safe(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return str(value)

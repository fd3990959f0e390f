"""Panel calls a page waits on, run in parallel threads and written to the module log afterwards.

Threads do HTTP only: every call's redacted record is buffered and written to the module log from
the calling thread when the batch closes, so the threads never open database connections. A call
still running at that point is not waited for; should it answer later, its record goes to this
module's logger as a warning instead of the module log (a worker thread writing rows would need a
database connection of its own, after the request that owned the batch has finished).

No PanelClient is shared between threads: ``requests.Session`` does not promise thread safety
(psf/requests#2766; its cookie jar changes with every answer). Each call gets a PanelClient of its
own, built on the calling thread so that a bad address or token is reported there, and closed by the
thread that used it. Calls running at the same time need a connection each anyway.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from types import TracebackType
from typing import TypeVar

from provisioning.models import Server, Service
from provisioning.module_log import ModuleLogRecorder
from provisioning.panels import module_log_recorder, panel_for
from vpnpanel import CallRecord, PanelClient

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_WORKERS = 8


class PanelCalls:
    """One batch of interactive panel calls: bounded thread pool, one correlation id, one log."""

    def __init__(
        self,
        *,
        action: str,
        service: Service | None = None,
        sample_reads: bool = True,
        max_workers: int = MAX_WORKERS,
    ) -> None:
        self.action = action
        self.service = service
        self.sample_reads = sample_reads
        self.correlation_id = uuid.uuid4()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="panel-call")
        self._lock = threading.Lock()
        self._records: list[tuple[Server, CallRecord]] = []
        self._closed = False

    def __enter__(self) -> PanelCalls:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def submit(self, server: Server, call: Callable[[PanelClient], T]) -> Future[T]:
        """Start ``call`` with a PanelClient of its own (single attempt, interactive timeouts).

        Raises ValueError when ``server`` has no usable address or token.
        """
        panel = panel_for(
            server,
            action=self.action,
            service=self.service,
            interactive=True,
            deferred_log=partial(self._buffer, server),
        )
        return self._pool.submit(_run, call, panel)

    def close(self) -> None:
        """Drop calls not started yet and write the records so far; running calls are left."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            records, self._records, self._closed = self._records, [], True
        recorders: dict[int, ModuleLogRecorder] = {}
        for server, record in records:
            if server.pk not in recorders:
                recorders[server.pk] = module_log_recorder(
                    server,
                    action=self.action,
                    service=self.service,
                    sample_reads=self.sample_reads,
                    correlation_id=self.correlation_id,
                )
            recorder = recorders[server.pk]
            try:
                recorder(record)
            except Exception:  # as with the client's own hook: a log row never fails the page
                logger.exception("Module log: cannot record %s %s", record.method, record.path)

    def _buffer(self, server: Server, record: CallRecord) -> None:
        with self._lock:
            if not self._closed:
                self._records.append((server, record))
                return
        logger.warning(
            "Panel %s answered %s %s after its page was done (%s, %.0f ms); not in the module "
            "log (action %s, service %s, correlation %s)",
            record.panel,
            record.method,
            record.path,
            record.error or record.outcome,
            record.duration_ms,
            self.action,
            self.service.pk if self.service else "-",
            self.correlation_id,
        )


def _run(call: Callable[[PanelClient], T], panel: PanelClient) -> T:
    try:
        return call(panel)
    finally:
        panel.close()


__all__ = ["MAX_WORKERS", "PanelCalls"]

"""The one panel factory: every PanelClient in the portal is built by :func:`panel_for`.

It reads the panel settings (timeouts, retries) from Django's settings, so ``vpnpanel`` stays free
of Django, and it hooks the module log in, so every call of every caller is recorded the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings

from portal.core import metrics
from provisioning.models import Server, Service
from provisioning.module_log import ModuleLogRecorder
from vpnpanel import CallRecord, PanelClient, RetryPolicy, Timeouts, endpoint_template

# Someone is waiting on a page: one attempt, so an error shows at once instead of after retries.
INTERACTIVE_RETRY = RetryPolicy(attempts=1, backoff=0, max_backoff=0, jitter=0)

CallHook = Callable[[CallRecord], None]


def background_timeouts() -> Timeouts:
    return Timeouts(connect=settings.PANEL_CONNECT_TIMEOUT, read=settings.PANEL_READ_TIMEOUT)


def interactive_timeouts() -> Timeouts:
    """Short timeouts for panel calls a page waits on, so a slow panel cannot hold it for long."""
    return Timeouts(
        connect=settings.PANEL_INTERACTIVE_CONNECT_TIMEOUT,
        read=settings.PANEL_INTERACTIVE_READ_TIMEOUT,
    )


def background_retry() -> RetryPolicy:
    return RetryPolicy(
        attempts=settings.PANEL_RETRY_ATTEMPTS,
        backoff=settings.PANEL_RETRY_BACKOFF,
        max_backoff=settings.PANEL_RETRY_MAX_BACKOFF,
        jitter=settings.PANEL_RETRY_JITTER,
    )


def module_log_recorder(
    server: Server,
    *,
    action: str,
    service: Service | None = None,
    sample_reads: bool = False,
    correlation_id: uuid.UUID | None = None,
) -> ModuleLogRecorder:
    """The module-log hook of one piece of work: one action, one correlation id.

    ``sample_reads``: successful reads are sampled — one row per panel and action per
    ``MODULE_LOG_POLL_OK_MINUTES`` — so that page views and live polls do not flood the log;
    failures and every write are always kept.
    """
    return ModuleLogRecorder(
        server=server,
        service=service,
        action=action,
        correlation_id=correlation_id or uuid.uuid4(),
        ok_reads_every_seconds=settings.MODULE_LOG_POLL_OK_MINUTES * 60 if sample_reads else 0,
    )


def panel_for(
    server: Server,
    *,
    action: str,
    service: Service | None = None,
    interactive: bool = False,
    sample_reads: bool | None = None,
    correlation_id: uuid.UUID | None = None,
    after_call: CallHook | None = None,
    deferred_log: CallHook | None = None,
    retry: RetryPolicy | None = None,
) -> PanelClient:
    """A client of ``server``'s panel whose every call is written to the module log and counted
    in the panel-call metrics (every call, where the module log samples successful reads).

    ``interactive``: someone is waiting (a page, an admin button): one attempt, short timeouts,
    and successful reads sampled in the log unless ``sample_reads`` is False (an admin's
    explicit check wants every row). ``after_call`` runs after each call is recorded (the
    worker renews its lease there). ``deferred_log`` takes each call's record instead of the
    module log, for calls made on another thread: the thread that owns the work writes them
    later (threads open no database connections). ``retry`` overrides the retry policy.

    Raises ValueError when the server has no usable address or token.
    """
    if deferred_log is not None:
        record: CallHook = deferred_log
    else:
        record = module_log_recorder(
            server,
            action=action,
            service=service,
            sample_reads=interactive if sample_reads is None else sample_reads,
            correlation_id=correlation_id,
        )
    on_call = _both(record, _call_metrics(server))
    if after_call is not None:
        on_call = _both(on_call, after_call)
    if interactive:
        retry, timeouts = retry or INTERACTIVE_RETRY, interactive_timeouts()
    else:
        retry, timeouts = retry or background_retry(), background_timeouts()
    return PanelClient.from_parts(
        hostname=server.hostname,
        ip=server.ip_address or "",
        port=server.port,
        secure=server.secure,
        token=server.api_token,
        name=server.name,
        on_call=on_call,
        retry=retry,
        timeouts=timeouts,
    )


def _call_metrics(server: Server) -> CallHook:
    label = server.name or f"server {server.pk}"

    def observe(record: CallRecord) -> None:
        metrics.observe_panel_call(
            server=label,
            method=record.method,
            endpoint=endpoint_template(record.path),
            outcome=record.outcome,
            seconds=record.duration_ms / 1000,
        )

    return observe


def _both(first: CallHook, then: CallHook) -> CallHook:
    """Both hooks, ``then`` even when ``first`` raised (the client logs what either raised)."""

    def hook(record: CallRecord) -> None:
        try:
            first(record)
        finally:
            then(record)

    return hook

"""Live connection status for the client area, at most one ``client/online`` call per panel per
poll interval however many customers are watching.

``client/online`` answers for the whole panel, so its answer is cached per server for
``CLIENT_AREA_POLL_SECONDS`` and shared by every viewer of every service on that panel. On a miss a
single-flight lock (``cache.add``) lets exactly one caller ask the panel. A failed call is cached
for the same interval as why it failed, so the viewers of a dead panel do not hammer it
either. The lock expires by itself if its holder dies, and the waiters then take it over.

Every answer is also kept as the panel's *last answer*, for a minute or more. While another caller
holds the lock, a viewer with a last answer gets it at once, with its own ``checked_at``, instead of
waiting on a slow or hung panel; only a viewer with no answer at all waits (bounded by the lock).
The last answer is whatever the panel said last, a failure included: a failure newer than a good
answer wins, because "the panel cannot be reached now" is the truth a customer can act on, and an
old "Online" from a panel that has since gone away would be a guess.

Each call is a module-log row (action ``online``), its successes sampled to one per panel per
``MODULE_LOG_POLL_OK_MINUTES``; failures are always logged.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from portal.core import metrics
from provisioning.exceptions import NotOnPanel, PanelReadFailed, ReadFailure
from provisioning.models import Server, Service
from provisioning.panels import interactive_timeouts, panel_for
from vpnpanel import OnlineSession, PanelError, Protocol

logger = logging.getLogger(__name__)

CACHE_PREFIX = "live:online"
LOG_ACTION = "online"
WAIT_STEP_SECONDS = 0.05
# How long a panel's last answer is kept for viewers who arrive while the next one is being asked
# for; never less than an interval plus a whole lock, so it outlasts a hung holder.
LAST_ANSWER_SECONDS = 60.0
# Cards are shown in this order; a protocol unknown to this code goes last.
PROTOCOL_ORDER = [p.value for p in Protocol]


@dataclass(frozen=True)
class ConnectionStatus:
    """What the client area shows: Online when at least one protocol reports a session."""

    online: bool
    checked_at: datetime
    sessions: list[dict[str, Any]] = field(default_factory=list)


def poll_seconds() -> int:
    return int(settings.CLIENT_AREA_POLL_SECONDS)


def panel_online_sessions(server: Server) -> list[OnlineSession]:
    """Every live session on ``server``'s panel, as of at most one poll interval ago."""
    return [_session(row) for row in _online_snapshot(server)["sessions"]]


def service_connection_status(service: Service) -> ConnectionStatus:
    """The live sessions of ``service``'s client only, one per protocol it is connected on.

    Raises NotOnPanel when the service has no client on a panel, PanelReadFailed when the panel
    cannot be asked (its ``failure`` says why, for each audience's words).
    """
    if not service.is_on_panel:
        raise NotOnPanel(status=service.status)
    snapshot = _online_snapshot(service.server)
    now = timezone.now()
    sessions = [
        _session_for_customer(row, now)
        for row in snapshot["sessions"]
        if row["client_name"] == service.remote_name
    ]
    sessions.sort(key=lambda s: (_protocol_rank(s["protocol"]), s["protocol"], s["ip"]))
    return ConnectionStatus(
        online=bool(sessions),
        checked_at=datetime.fromisoformat(snapshot["checked_at"]),
        sessions=sessions,
    )


def connection_payload(status: ConnectionStatus) -> dict[str, Any]:
    """The JSON the connection-status script reads (customer endpoint and admin tab alike)."""
    return {
        "online": status.online,
        "checked_at": status.checked_at.isoformat(),
        "poll_seconds": poll_seconds(),
        "sessions": status.sessions,
    }


# Cache and single flight ------------------------------------------------------------------------


class CacheKeys(NamedTuple):
    """One server's cache keys: the answer of this interval, the fetch lock, the last answer."""

    answer: str
    lock: str
    last: str


def cache_keys(server: Server) -> CacheKeys:
    prefix = f"{CACHE_PREFIX}:{server.pk}"
    return CacheKeys(answer=prefix, lock=f"{prefix}:lock", last=f"{prefix}:last")


def forget_live_status(server: Server) -> None:
    """Drop the panel's cached answers, after a change (a suspend, a terminate) they predate."""
    keys = cache_keys(server)
    cache.delete_many([keys.answer, keys.last])


def _lock_seconds() -> float:
    # One attempt, bounded by the client's timeouts, plus a margin: the lock outlives a healthy
    # fetch, and expires soon after a holder that died.
    timeouts = interactive_timeouts()
    return timeouts.connect + timeouts.read + 1.0


def _last_answer_seconds() -> float:
    return max(LAST_ANSWER_SECONDS, poll_seconds() + _lock_seconds())


def _online_snapshot(server: Server) -> dict[str, Any]:
    """The cached answer of ``server``'s panel, fetched by one caller at a time on a miss.

    While another caller fetches, the panel's last answer (if any) is returned at once.
    """
    keys = cache_keys(server)
    lock_seconds = _lock_seconds()
    # Any lock seen while waiting expires before this (a dead holder's included); a waiter then
    # takes it over and fetches itself. Waiting longer than that means the cache is misbehaving.
    deadline = time.monotonic() + lock_seconds + 0.5
    while True:
        cached = cache.get(keys.answer)
        if cached is not None:
            metrics.count_live_status_lookup("hit")
            return _unwrap(cached)
        token = uuid.uuid4().hex
        if cache.add(keys.lock, token, timeout=lock_seconds):
            try:
                # The previous holder stores its answer before it lets go of the lock.
                cached = cache.get(keys.answer)
                if cached is None:
                    metrics.count_live_status_lookup("miss")
                    cached = _fetch(server)
                    cache.set(keys.last, cached, timeout=_last_answer_seconds())
                    cache.set(keys.answer, cached, timeout=poll_seconds())
                else:
                    metrics.count_live_status_lookup("hit")
            finally:
                _release(keys.lock, token)
            return _unwrap(cached)
        last = cache.get(keys.last)
        if last is not None:
            metrics.count_live_status_lookup("stale")
            return _unwrap(last)
        if time.monotonic() >= deadline:
            raise PanelReadFailed(ReadFailure.TOO_SLOW)
        time.sleep(WAIT_STEP_SECONDS)


def _release(lock_key: str, token: str) -> None:
    # Only our own lock: if ours expired mid-fetch, another caller's lock must survive. The
    # get-then-delete gap can at worst let one extra caller fetch, never corrupt the answer.
    if cache.get(lock_key) == token:
        cache.delete(lock_key)


def _unwrap(cached: dict[str, Any]) -> dict[str, Any]:
    if "failure" in cached:
        raise PanelReadFailed(ReadFailure(cached["failure"]), detail=cached["detail"])
    return cached


def _fetch(server: Server) -> dict[str, Any]:
    """Ask the panel once; the answer, or why it failed, as a JSON-able dict."""
    checked_at = timezone.now().isoformat()
    try:
        panel = panel_for(server, action=LOG_ACTION, interactive=True)
    except ValueError as exc:  # no usable address or token
        logger.warning("Cannot ask %s who is online: %s", server, exc)
        return _failed(checked_at, PanelReadFailed(ReadFailure.UNREACHABLE, detail=str(exc)))
    try:
        sessions = panel.online_sessions()
    except PanelError as exc:
        logger.warning("Cannot ask %s who is online: %s", server, exc)
        return _failed(checked_at, PanelReadFailed.from_panel_error(exc))
    except Exception as exc:  # a bug, not a panel answer: keep the page up, keep the traceback
        logger.exception("Unexpected error asking %s who is online", server)
        failure = PanelReadFailed(ReadFailure.PANEL_ERROR, detail=f"{type(exc).__name__}: {exc}")
        return _failed(checked_at, failure)
    finally:
        panel.close()
    return {"checked_at": checked_at, "sessions": [_session_row(s) for s in sessions]}


def _failed(checked_at: str, failure: PanelReadFailed) -> dict[str, Any]:
    return {"checked_at": checked_at, "failure": failure.failure.value, "detail": failure.detail}


# Shapes ----------------------------------------------------------------------------------------


def _session_row(session: OnlineSession) -> dict[str, Any]:
    handshake = session.latest_handshake
    return {
        "client_name": session.client_name,
        "protocol": str(session.protocol),
        "network_name": session.network_name,
        "ip": session.ip,
        "endpoint": session.endpoint,
        "latest_handshake": handshake.isoformat() if handshake else None,
        "transfer_rx": session.transfer_rx,
        "transfer_tx": session.transfer_tx,
    }


def _session(row: dict[str, Any]) -> OnlineSession:
    handshake = row["latest_handshake"]
    protocol: Protocol | str = row["protocol"]
    if protocol in PROTOCOL_ORDER:
        protocol = Protocol(protocol)
    return OnlineSession(
        client_name=row["client_name"],
        protocol=protocol,
        network_name=row["network_name"],
        ip=row["ip"],
        endpoint=row["endpoint"],
        latest_handshake=datetime.fromisoformat(handshake) if handshake else None,
        transfer_rx=row["transfer_rx"],
        transfer_tx=row["transfer_tx"],
    )


def _session_for_customer(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    handshake = row["latest_handshake"]
    ago = None
    if handshake:
        ago = max(0, int((now - datetime.fromisoformat(handshake)).total_seconds()))
    return {
        "protocol": row["protocol"],
        "network": row["network_name"],
        "ip": row["ip"],
        "endpoint": row["endpoint"],
        "latest_handshake": handshake,
        "handshake_ago_seconds": ago,
        # The panel counts bytes as the server sees them: rx is what the customer uploaded.
        "rx_bytes": row["transfer_rx"],
        "tx_bytes": row["transfer_tx"],
    }


def _protocol_rank(protocol: str) -> int:
    return PROTOCOL_ORDER.index(protocol) if protocol in PROTOCOL_ORDER else len(PROTOCOL_ORDER)

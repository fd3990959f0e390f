"""Simulated usage: who is online and how much traffic each client moved.

Everything is a pure function of (seed, client name, time), so two simulators started with the same
``--seed`` agree, and a value read twice in the same minute/day is consistent.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from typing import Any

from vpnpanel.simulator.state import Client, Network, SessionOverride

MINUTE = 60
DAY = 86400
ONLINE_SHARE = 0.4
LOOKBACK_MINUTES = 120
IDLE_DAY_SHARE = 0.25
MIN_DAILY_BYTES = 50_000_000
MAX_EXTRA_DAILY_BYTES = 3_000_000_000


def unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) for the given parts."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def session(
    *,
    seed: int,
    client: Client,
    network: Network,
    now: float,
    override: SessionOverride | None,
) -> dict[str, Any] | None:
    """The client's current session, or ``None`` when offline.

    Disabled clients are always offline: disabling disconnects every protocol on a real panel.
    """
    protocols = network.enabled_protocols()
    if client.status != "enable" or not protocols:
        return None
    if override is not None:
        if not override.online:
            return None
        protocol = override.protocol or protocols[0]
        if protocol not in protocols:
            return None
        return _session_object(seed, client, protocol, since=override.since, now=now)
    start = _session_start(seed, client.name, int(now // MINUTE))
    if start is None:
        return None
    protocol = protocols[int(unit(seed, client.name, start, "protocol") * len(protocols))]
    return _session_object(seed, client, protocol, since=start * MINUTE, now=now)


def _online(seed: int, name: str, minute: int) -> bool:
    return unit(seed, name, minute, "online") < ONLINE_SHARE


def _session_start(seed: int, name: str, minute: int) -> int | None:
    """The first minute of the run of online minutes that contains ``minute``."""
    if not _online(seed, name, minute):
        return None
    start = minute
    while start > minute - LOOKBACK_MINUTES and _online(seed, name, start - 1):
        start -= 1
    return start


def _session_object(seed: int, client: Client, protocol: str, *, since: float, now: float) -> dict:
    elapsed = max(0.0, now - since)
    rx_rate = 2_000 + unit(seed, client.name, since, "rx") * 200_000
    tx_rate = 10_000 + unit(seed, client.name, since, "tx") * 1_000_000
    offset = int(unit(seed, client.name, "handshake") * 117)
    handshake_age = min(3 + (int(now) + offset) % 117, int(elapsed))
    host = 1 + int(unit(seed, client.name, since, "host") * 254)
    port = 50000 + int(unit(seed, client.name, since, "port") * 10000)
    return {
        "name": client.name,
        "protocol": protocol,
        "network_name": client.network_name,
        "ip": client.ipv4,
        "endpoint": f"203.0.113.{host}:{port}",
        "latest_handshake": int(now) - handshake_age,
        "transfer_rx": int(rx_rate * elapsed) + 1_000,
        "transfer_tx": int(tx_rate * elapsed) + 2_000,
    }


def traffic(
    *, seed: int, client: Client, year: int, month: int, now: dt.datetime
) -> list[dict[str, Any]]:
    """One row per day of the month up to today (UTC); today grows with the elapsed part of it."""
    created = dt.datetime.fromtimestamp(client.created_at, dt.UTC)
    days = calendar.monthrange(year, month)[1]
    rows = []
    for day in range(1, days + 1):
        date = dt.date(year, month, day)
        if date > now.date():
            break
        download, upload = _day_traffic(seed, client.name, date, created=created, now=now)
        rows.append(
            {"date": date.isoformat(), "traffic_download": download, "traffic_upload": upload}
        )
    return rows


def _day_traffic(
    seed: int, name: str, date: dt.date, *, created: dt.datetime, now: dt.datetime
) -> tuple[int, int]:
    start = dt.datetime.combine(date, dt.time(), dt.UTC)
    active_from = max(start, created)
    active_until = min(start + dt.timedelta(days=1), now)
    fraction = max(0.0, (active_until - active_from).total_seconds()) / DAY
    if fraction == 0 or (date != now.date() and unit(seed, name, date, "idle") < IDLE_DAY_SHARE):
        return 0, 0
    full_day = MIN_DAILY_BYTES + unit(seed, name, date, "down") ** 2 * MAX_EXTRA_DAILY_BYTES
    download = int(full_day * fraction)
    upload = int(download * (0.05 + 0.3 * unit(seed, name, date, "up")))
    return download, upload

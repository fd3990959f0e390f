"""Prometheus series the portal records, kept where every machine adds to the same totals.

Panel calls happen in Celery workers on M machines and in N gunicorn web machines with several
processes each, and a scrape reaches one web process. prometheus-client's in-process registry
would show that one process's calls only, and its multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``)
sums the processes of one machine only. So every recording adds to one shared store instead, and
the scrape reads the totals from it:

* **Redis** (``REDIS_URL``, the same server as the cache, under the cache's key prefix): one hash
  per metric, one field per series, bumped with ``HINCRBYFLOAT`` (atomic); a recording is one
  pipelined round trip however many fields it bumps. Every machine of the deployment adds to it.
* **A SQLite file** under ``PORTAL_VAR_DIR`` without Redis (the embedded mode, one machine by
  definition): the same rows, bumped with an atomic upsert, shared by the web and the worker
  processes of that machine.

A histogram is stored as one counter per bucket (only the bucket the value falls in is bumped,
they are summed into Prometheus' cumulative buckets at the scrape), plus the sum of the values.

Recording never fails or noticeably slows the work it measures: the Redis client has sub-second
timeouts, an error is logged and swallowed, and after one the process stops recording for
``PAUSE_AFTER_ERROR_SECONDS`` (the series then undercount; a scrape still answers). Series that
the database already holds the truth of (invoices, parked actions) are not recorded here: they are
counted at the scrape (``portal.metrics``).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import redis
from django.conf import settings
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

PAUSE_AFTER_ERROR_SECONDS = 30.0
REDIS_TIMEOUT_SECONDS = 0.5
SQLITE_TIMEOUT_SECONDS = 0.5
SUM = "sum"


@dataclass(frozen=True)
class RecordedMetric:
    """One recorded metric: a counter, or a histogram when it has ``buckets``."""

    name: str
    documentation: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()

    def check(self, values: Sequence[str]) -> None:
        if len(values) != len(self.labels):
            raise ValueError(f"{self.name} takes labels {self.labels}, got {values!r}")

    def bucket_of(self, value: float) -> str:
        """The bound of the one bucket ``value`` falls in, as stored ("+Inf" past the last)."""
        return next((repr(bound) for bound in self.buckets if value <= bound), "+Inf")


PANEL_CALL_SECONDS = RecordedMetric(
    "portal_panel_call_duration_seconds",
    "Panel API calls (each HTTP attempt) by panel, method, endpoint (path template) and outcome.",
    ("server", "method", "endpoint", "outcome"),
    # Interactive reads take tens of milliseconds; the read timeout is 20 s.
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0),
)
PROVISIONING_OUTCOMES = RecordedMetric(
    "portal_provisioning_outcomes",
    "Runs of provisioning actions by action and outcome (succeeded, retrying, parked).",
    ("action", "outcome"),
)
LIVE_STATUS_LOOKUPS = RecordedMetric(
    "portal_live_status_lookups",
    "Live connection-status lookups by result: hit (this interval's cached answer), stale (the "
    "last answer while another viewer asks the panel) or miss (this lookup asked the panel).",
    ("result",),
)
METRICS: tuple[RecordedMetric, ...] = (
    PANEL_CALL_SECONDS,
    PROVISIONING_OUTCOMES,
    LIVE_STATUS_LOOKUPS,
)


# Recording --------------------------------------------------------------------------------------


def observe_panel_call(
    *, server: str, method: str, endpoint: str, outcome: str, seconds: float
) -> None:
    """Count one panel call attempt and its duration (``endpoint``: the path template)."""
    observe(PANEL_CALL_SECONDS, (server, method, endpoint, outcome), seconds)


def count_provisioning_outcome(*, action: str, outcome: str) -> None:
    increment(PROVISIONING_OUTCOMES, (action, outcome))


def count_live_status_lookup(result: str) -> None:
    increment(LIVE_STATUS_LOOKUPS, (result,))


def increment(metric: RecordedMetric, labels: Sequence[str], amount: float = 1.0) -> None:
    metric.check(labels)
    _record(metric, [(_field(labels, ""), amount)])


def observe(metric: RecordedMetric, labels: Sequence[str], value: float) -> None:
    metric.check(labels)
    _record(metric, [(_field(labels, metric.bucket_of(value)), 1.0), (_field(labels, SUM), value)])


def _record(metric: RecordedMetric, increments: list[tuple[str, float]]) -> None:
    try:
        store = metrics_store()
    except Exception as exc:  # a malformed REDIS_URL: logged (once in a while), never raised
        _unmade_store.pause(exc)
        return
    try:
        store.add(metric.name, increments)
    except Exception as exc:  # a metric is never worth a failed panel call or task
        store.pause(exc)


def _field(labels: Sequence[str], part: str) -> str:
    """One series' field: its label values and which part of it (a bucket, the sum, or "")."""
    return json.dumps([*map(str, labels), part], separators=(",", ":"))


# Stores -----------------------------------------------------------------------------------------


class Store(Protocol):
    def add(self, metric: str, increments: list[tuple[str, float]]) -> None: ...

    def read(self, metric: str) -> dict[str, float]: ...

    def pause(self, exc: Exception) -> None: ...


class _Pausing:
    """After a failed write, skip writes for a while: a dead store costs one timeout, not one per
    panel call."""

    def __init__(self) -> None:
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def paused(self) -> bool:
        return time.monotonic() < self._paused_until

    def pause(self, exc: Exception) -> None:
        with self._lock:
            if self.paused():
                return
            self._paused_until = time.monotonic() + PAUSE_AFTER_ERROR_SECONDS
        logger.warning(
            "Metrics: cannot record (%s: %s); not recording for %.0f s",
            type(exc).__name__,
            exc,
            PAUSE_AFTER_ERROR_SECONDS,
        )


# Only dedupes the warning about a store that cannot be made; recording is tried every time.
_unmade_store = _Pausing()


class RedisStore(_Pausing):
    """Every machine's recordings in one Redis: a hash per metric, a field per series."""

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )

    def add(self, metric: str, increments: list[tuple[str, float]]) -> None:
        if self.paused():
            return
        with self.client.pipeline(transaction=False) as pipe:
            for field, amount in increments:
                pipe.hincrbyfloat(self._key(metric), field, amount)
            pipe.execute()

    def read(self, metric: str) -> dict[str, float]:
        stored = self.client.hgetall(self._key(metric))
        return {field.decode(): float(value) for field, value in stored.items()}

    def _key(self, metric: str) -> str:
        return f"{self.prefix}:metrics:{metric}" if self.prefix else f"metrics:{metric}"


class SQLiteStore(_Pausing):
    """One machine's recordings in a SQLite file, for the embedded mode (no Redis)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._local = threading.local()
        self._setup_lock = threading.Lock()

    def add(self, metric: str, increments: list[tuple[str, float]]) -> None:
        if self.paused():
            return
        with self._db() as db:
            db.executemany(
                "INSERT INTO series (metric, field, value) VALUES (?, ?, ?) "
                "ON CONFLICT (metric, field) DO UPDATE SET value = value + excluded.value",
                [(metric, field, amount) for field, amount in increments],
            )

    def read(self, metric: str) -> dict[str, float]:
        rows = self._db().execute("SELECT field, value FROM series WHERE metric = ?", (metric,))
        return dict(rows.fetchall())

    def _db(self) -> sqlite3.Connection:
        """This thread's connection, kept open: opening one per recording costs milliseconds
        (closing the last connection of a WAL database checkpoints it). A connection is never
        shared between threads, nor used by a process forked after it was opened."""
        db, pid = getattr(self._local, "db", None), getattr(self._local, "pid", None)
        if db is None or pid != os.getpid():
            db = sqlite3.connect(self.path, timeout=SQLITE_TIMEOUT_SECONDS)
            with self._setup_lock:
                self._setup(db)
            self._local.db, self._local.pid = db, os.getpid()
        return db

    @staticmethod
    def _setup(db: sqlite3.Connection) -> None:
        """WAL (kept in the file) and the table. Switching to WAL answers "database is locked"
        at once, without waiting out the timeout, while another connection switches it: so the
        threads of a process set up one at a time, and a file already in WAL is not switched."""
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent without an fsync each
        db.execute(
            "CREATE TABLE IF NOT EXISTS series (metric TEXT NOT NULL, field TEXT NOT NULL, "
            "value REAL NOT NULL, PRIMARY KEY (metric, field))"
        )


def metrics_store() -> Store:
    """The store of this deployment: Redis when there is one, else the SQLite file."""
    if settings.REDIS_URL:
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
        return _redis_store(settings.REDIS_URL, prefix)
    return _sqlite_store(Path(settings.VAR_DIR) / "metrics.sqlite3")


@cache
def _redis_store(url: str, prefix: str) -> RedisStore:
    return RedisStore(url, prefix)


@cache
def _sqlite_store(path: Path) -> SQLiteStore:
    return SQLiteStore(path)


# Reading at the scrape --------------------------------------------------------------------------


class StoredMetricsCollector(Collector):
    """The recorded metrics, as totals over every process that recorded them."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        store = self.store or metrics_store()
        try:
            families = [_family(metric, store.read(metric.name)) for metric in METRICS]
        except Exception as exc:
            logger.warning("Metrics: cannot read the store (%s: %s)", type(exc).__name__, exc)
            families = []
        yield from families
        up = GaugeMetricFamily(
            "portal_metrics_store_up",
            "Whether the scrape could read the recorded series (1) or they are missing (0).",
        )
        up.add_metric([], 1.0 if families else 0.0)
        yield up


def _family(metric: RecordedMetric, stored: dict[str, float]) -> Metric:
    return _histogram(metric, stored) if metric.buckets else _counter(metric, stored)


def _series(stored: dict[str, float]) -> Iterable[tuple[tuple[str, ...], str, float]]:
    for field, value in stored.items():
        *labels, part = json.loads(field)
        yield tuple(labels), part, value


def _counter(metric: RecordedMetric, stored: dict[str, float]) -> CounterMetricFamily:
    family = CounterMetricFamily(metric.name, metric.documentation, labels=metric.labels)
    for labels, _part, value in sorted(_series(stored)):
        family.add_metric(labels, value)
    return family


def _histogram(metric: RecordedMetric, stored: dict[str, float]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(metric.name, metric.documentation, labels=metric.labels)
    counts: dict[tuple[str, ...], dict[str, float]] = defaultdict(dict)
    for labels, part, value in _series(stored):
        counts[labels][part] = value
    bounds = [*map(repr, metric.buckets), "+Inf"]
    for labels, parts in sorted(counts.items()):
        cumulative, buckets = 0.0, []
        for bound in bounds:
            cumulative += parts.get(bound, 0.0)
            buckets.append((bound, cumulative))
        family.add_metric(labels, buckets, parts.get(SUM, 0.0))
    return family

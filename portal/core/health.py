"""Readiness checks of the services the portal depends on, for ``/healthz`` and monitoring."""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from portal.celery import app as celery_app

logger = logging.getLogger(__name__)

HEARTBEAT_CACHE_KEY = "portal:worker-heartbeat"


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    duration_ms: float
    detail: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "ms": round(self.duration_ms, 1), **self.detail}


def check_database() -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_cache() -> dict[str, object]:
    key = f"portal:healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    try:
        if cache.get(key) != "1":
            raise RuntimeError("value written to the cache could not be read back")
    finally:
        cache.delete(key)
    return {"backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def check_broker() -> dict[str, object]:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_CHECK_TIMEOUT)
        transport = conn.transport_cls
    return {"transport": str(transport)}


CHECKS: dict[str, Callable[[], dict[str, object]]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_check(name: str, check: Callable[[], dict[str, object]]) -> CheckResult:
    """Run one check; a failure is reported by exception class only, details go to the log."""
    started = time.perf_counter()
    try:
        detail = check()
    except Exception as exc:
        logger.warning("health check %s failed: %s", name, exc)
        return CheckResult(False, _elapsed_ms(started), {"error": type(exc).__name__})
    return CheckResult(True, _elapsed_ms(started), detail)


def worker_heartbeat() -> dict[str, object]:
    """When the Celery beat heartbeat last ran; informational, it does not fail the check."""
    try:
        last_seen = cache.get(HEARTBEAT_CACHE_KEY)
    except Exception:
        last_seen = None
    if last_seen is None:
        return {"last_seen": None}
    return {"last_seen": last_seen, "age_seconds": round(time.time() - last_seen, 1)}


def health_report() -> tuple[bool, dict[str, object]]:
    results = {name: run_check(name, check) for name, check in CHECKS.items()}
    healthy = all(result.ok for result in results.values())
    report: dict[str, object] = {
        "status": "ok" if healthy else "error",
        "checks": {name: result.as_dict() for name, result in results.items()},
        "worker": worker_heartbeat(),
    }
    return healthy, report


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000

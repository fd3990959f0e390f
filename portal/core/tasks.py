import socket
import time

from celery import shared_task
from django.core.cache import cache

from portal.core.health import HEARTBEAT_CACHE_KEY


@shared_task(name="portal.core.tasks.ping")
def ping(token: str) -> dict[str, str]:
    """Echo a token back with the worker's host name: proves a message round-trips a real worker."""
    return {"token": token, "worker": socket.gethostname()}


@shared_task(name="portal.core.tasks.record_heartbeat", ignore_result=True)
def record_heartbeat() -> None:
    cache.set(HEARTBEAT_CACHE_KEY, time.time(), timeout=None)

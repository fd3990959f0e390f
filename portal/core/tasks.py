import socket
import time

from celery import shared_task
from django.core.cache import cache

from portal.core.health import HEARTBEAT_CACHE_KEY
from portal.core.request_id import current_request_id


@shared_task(name="portal.core.tasks.ping")
def ping(token: str) -> dict[str, str | None]:
    """Echo a token back with the worker's host name and the request id the task ran under:
    proves a message round-trips a real worker, and what it carried."""
    return {"token": token, "worker": socket.gethostname(), "request_id": current_request_id()}


@shared_task(name="portal.core.tasks.record_heartbeat", ignore_result=True)
def record_heartbeat() -> None:
    cache.set(HEARTBEAT_CACHE_KEY, time.time(), timeout=None)

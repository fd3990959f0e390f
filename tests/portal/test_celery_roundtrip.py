import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery

from tests.services import redis_url_or_skip
from tests.workers import celery_worker

PING = "portal.core.tasks.ping"


def _client_app(broker: str, backend: str, transport_options: dict | None = None) -> Celery:
    app = Celery("test-client", broker=broker, backend=backend, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options=transport_options or {},
    )
    return app


@pytest.mark.services
def test_task_round_trips_through_a_real_worker_on_redis(tmp_path: Path):
    redis_url = redis_url_or_skip()
    token = uuid.uuid4().hex
    app = _client_app(redis_url, redis_url)

    with celery_worker(env={"REDIS_URL": redis_url}, log_path=tmp_path / "worker.log") as queue:
        async_result = app.send_task(PING, args=[token], queue=queue)
        result = async_result.get(timeout=30)
    async_result.forget()
    _forget_queue(redis_url, queue)

    assert result["token"] == token
    assert result["worker"]


def _forget_queue(redis_url: str, queue: str) -> None:
    """Drop what the test worker left in the shared Redis: its queue and exchange bindings."""
    connection = redis.Redis.from_url(redis_url)
    connection.delete(*connection.keys(f"*{queue}*") or ["-"])
    for key in connection.keys("_kombu.binding.*"):
        stale = [m for m in connection.smembers(key) if queue.encode() in m]
        if stale:
            connection.srem(key, *stale)


def test_task_round_trips_through_a_real_worker_on_the_filesystem_broker(tmp_path: Path):
    queue_dir, processed_dir = tmp_path / "broker" / "queue", tmp_path / "broker" / "processed"
    token = uuid.uuid4().hex
    (tmp_path / "celery-results").mkdir()
    app = _client_app(
        "filesystem://localhost/",
        f"file://{tmp_path / 'celery-results'}",
        {
            "control_folder": str(tmp_path / "broker" / "control"),
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "processed_folder": str(processed_dir),
        },
    )
    worker_env = {"PORTAL_VAR_DIR": str(tmp_path), "REDIS_URL": "", "CELERY_BROKER_URL": ""}

    with celery_worker(env=worker_env, log_path=tmp_path / "worker.log") as queue:
        result = app.send_task(PING, args=[token], queue=queue).get(timeout=30)

    assert result["token"] == token

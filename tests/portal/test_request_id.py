"""The request id: on the response, on the request's log lines, and carried into Celery tasks."""

import io
import json
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.result import AsyncResult
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

from portal.celery import app as celery_app
from portal.core.logs import JsonFormatter, TextFormatter
from portal.core.request_id import is_valid
from tests.workers import celery_worker

PING = "portal.core.tasks.ping"


def send_ping(request: HttpRequest) -> JsonResponse:
    """Sends the ping task while the request runs, to the queue the test names."""
    queue = request.GET.get("queue") or settings.CELERY_TASK_DEFAULT_QUEUE
    result = celery_app.send_task(PING, args=[uuid.uuid4().hex], queue=queue)
    return JsonResponse({"task_id": result.id})


urlpatterns = [path("send-ping/", send_ping)]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the django.request logger writes, in the production (JSON) format."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def behind_proxy(settings) -> None:
    """A proxy in front, which sets X-Request-ID: the incoming id is honoured."""
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1


def test_a_response_carries_a_new_request_id(client, db):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert is_valid(first)
    assert len(first) == 32
    assert first != second


def test_a_well_formed_incoming_request_id_is_passed_through(client, db, behind_proxy):
    response = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a.91b_2"})

    assert response["X-Request-ID"] == "edge-7f3a.91b_2"


def test_without_a_trusted_proxy_an_incoming_request_id_is_replaced(client, db, settings):
    """Nothing in front sets the header, so a client's would be its own pick in our logs."""
    settings.PORTAL_TRUSTED_PROXY_COUNT = 0

    response = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a.91b_2"})

    assert response["X-Request-ID"] != "edge-7f3a.91b_2"
    assert is_valid(response["X-Request-ID"])


@pytest.mark.parametrize(
    "incoming",
    ["", "x" * 129, "has space", 'quote"d', "<script>", "back\\slash", "-starts-with-dash", "ü"],
)
def test_a_malformed_incoming_request_id_is_replaced(client, db, behind_proxy, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})

    assert response["X-Request-ID"] != incoming
    assert is_valid(response["X-Request-ID"])


def test_a_log_line_of_a_request_is_json_with_its_request_id(client, db, json_log, behind_proxy):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "req-log-0001"})

    assert response.status_code == 404
    [line] = json_log.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["request_id"] == "req-log-0001"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "django.request"
    assert entry["message"] == "Not Found: /no-such-page/"
    assert entry["time"].endswith("Z")
    assert "task_id" not in entry


def test_a_json_log_line_masks_secrets_in_the_message_and_the_exception():
    logger = logging.getLogger("tests.request_id.masking")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError("panel said: Authorization: Bearer tok-abcdef0123456789")
        except RuntimeError:
            logger.exception("calling with Bearer tok-abcdef0123456789 failed")
    finally:
        logger.removeHandler(handler)

    entry = json.loads(stream.getvalue())
    assert "tok-abcdef0123456789" not in stream.getvalue()
    assert entry["message"] == "calling with Bearer *** failed"
    assert "RuntimeError: panel said: Authorization: Bearer ***" in entry["exception"]
    assert entry["request_id"] is None


@pytest.mark.urls(__name__)
def test_a_task_sent_during_a_request_runs_in_the_worker_under_its_request_id(
    client, db, live_worker, behind_proxy
):
    response = client.get("/send-ping/", headers={"X-Request-ID": "req-task-0001"})

    result = AsyncResult(response.json()["task_id"], app=celery_app).get(timeout=30)
    assert response["X-Request-ID"] == "req-task-0001"
    assert result["request_id"] == "req-task-0001"


def test_a_task_sent_outside_a_request_gets_its_own_request_id(live_worker):
    """As beat sends its tasks: each run gets an id of its own for its log lines."""
    sent = [celery_app.send_task(PING, args=["beat"], queue=live_worker) for _ in range(2)]

    ids = [result.get(timeout=30)["request_id"] for result in sent]

    assert all(is_valid(request_id) for request_id in ids)
    assert ids[0] != ids[1]


@pytest.mark.urls(__name__)
def test_the_worker_logs_json_lines_with_the_request_id_and_the_task(
    client, db, tmp_path: Path, behind_proxy
):
    log_path = tmp_path / "worker.log"
    with celery_worker(env={"LOG_FORMAT": "json"}, log_path=log_path) as queue:
        response = client.get(
            f"/send-ping/?queue={queue}", headers={"X-Request-ID": "req-worker-log-1"}
        )
        task_id = response.json()["task_id"]
        AsyncResult(task_id, app=celery_app).get(timeout=30)
    if os.environ.get("REDIS_URL"):
        from tests.portal.test_celery_roundtrip import _forget_queue

        _forget_queue(os.environ["REDIS_URL"], queue)

    # Only what Python prints itself before logging is set up (a warning about root) is not JSON.
    lines = log_path.read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(" ready." in entry["message"] for entry in entries)
    [done] = [e for e in entries if e.get("task_id") == task_id and "succeeded" in e["message"]]
    assert done["request_id"] == "req-worker-log-1"
    assert done["task_name"] == PING
    assert all(entry["time"].endswith("Z") for entry in entries)


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (
            "/accounts/password/reset/key/3k-cz7q-d41d8cd98f00b204e98009/",
            "cz7q-d41d8cd98f00b204e98009",
        ),
        ("/accounts/confirm-email/MQ:1tZk3q:abcDEFghiJKL/", "MQ:1tZk3q:abcDEFghiJKL"),
    ],
)
@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter("%(levelname)s %(message)s")])
def test_a_request_log_line_masks_a_key_in_the_path(path, key, formatter):
    logger = logging.getLogger("tests.request_id.path_keys")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    try:
        logger.warning("Not Found: %s", path)  # as django.request logs a 4xx
    finally:
        logger.removeHandler(handler)

    assert key not in stream.getvalue()
    assert "/***/" in stream.getvalue()

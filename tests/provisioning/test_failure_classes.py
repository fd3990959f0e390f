"""The core's failure classes, each set up for real (reliability.md 6, 7, 8, 14, 20).

Real parts only: ``celery worker`` processes on the tests' database, the live simulator process,
and the configured broker (the filesystem transport locally; Redis in CI, where ``REDIS_URL`` is
set). The portal enqueues through its one path (``portal.core.queue.enqueue_on_commit``, tasks sent
by name after commit); these tests only hand that path a Celery app configured from the same
settings whose default queue is a worker of theirs (or whose broker is down), so no other worker
of the session takes their messages.

The standing worker of this module runs with a short lease (4 s), a sweeper that re-queues work
overdue by 1 s and a 1 s panel read timeout; the sweeper is the beat task
``provisioning.sweep_stale_actions``, sent by name as beat sends it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

import portal.core.queue
from provisioning.models import ModuleLogEntry, Product, Service, ServiceAction, ServiceStatus
from tests.factories import (
    TEST_PASSWORD,
    CustomerFactory,
    ProductFactory,
    ServerFactory,
    ServiceFactory,
    StaffFactory,
    order_service,
)
from tests.provisioning.conftest import settled, wait_for_service
from tests.services import redis_url_or_skip
from tests.worker_fixtures import worker_database_url
from tests.workers import celery_worker, celery_worker_process

pytestmark = pytest.mark.django_db(transaction=True)

RUN_TASK = "provisioning.run_pending_action"
SWEEP_TASK = "provisioning.sweep_stale_actions"
LEASE_SECONDS = 4
PANEL_READ_TIMEOUT = 1
# The lease outlives one panel call with its in-process retries (3 attempts of at most 1 s here).
STANDING_WORKER_ENV = {
    "PROVISIONING_LEASE_SECONDS": str(LEASE_SECONDS),
    "PROVISIONING_SWEEP_AFTER_SECONDS": "1",
    "PANEL_READ_TIMEOUT": str(PANEL_READ_TIMEOUT),
}
DOWNLOAD_MBPS, UPLOAD_MBPS = 40, 8


# Workers, queues and the broker ------------------------------------------------------------------


def _queue_name() -> str:
    return f"test-fc-{uuid.uuid4().hex[:10]}"


def _sender(queue: str, *, broker_url: str | None = None) -> Celery:
    """A Celery app configured like ``portal.celery.app`` (same settings) sending to ``queue``."""
    app = Celery("failure-classes", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.task_default_queue = queue
    if broker_url is not None:
        app.conf.broker_url = broker_url
        app.conf.broker_transport_options = {}
    return app


def _forget_queue(queue: str) -> None:
    """Drop what a queue of this module left in the broker (Redis is shared with other runs)."""
    broker_url = settings.CELERY_BROKER_URL
    if broker_url.startswith(("redis://", "rediss://")):
        import redis

        connection = redis.Redis.from_url(broker_url)
        keys = list(connection.scan_iter(match=f"*{queue}*"))
        if keys:
            connection.delete(*keys)
        for key in connection.scan_iter(match="_kombu.binding*"):
            kind = connection.type(key)
            if kind == b"set":
                stale = [member for member in connection.smembers(key) if queue.encode() in member]
                if stale:
                    connection.srem(key, *stale)
            elif kind == b"zset":
                stale = [
                    member for member in connection.zrange(key, 0, -1) if queue.encode() in member
                ]
                if stale:
                    connection.zrem(key, *stale)
        # A SIGKILLed worker's message stays unacknowledged until the visibility timeout (1 h),
        # then Redis would hand it back to a queue nobody reads any more.
        for tag, payload in connection.hscan_iter("unacked"):
            if queue.encode() in payload:
                connection.hdel("unacked", tag)
                connection.zrem("unacked_index", tag)
        connection.close()
    else:
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        for message in folder.glob(f"*.{queue}.msg"):
            message.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def standing_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """A real ``celery worker`` (two prefork processes) on a queue of this module's own."""
    with django_db_blocker.unblock():
        database_url = worker_database_url()
    queue = _queue_name()
    env = {"DATABASE_URL": database_url, "CELERY_TASK_DEFAULT_QUEUE": queue, **STANDING_WORKER_ENV}
    log_path = tmp_path_factory.mktemp("standing-worker") / "worker.log"
    try:
        with celery_worker(env=env, log_path=log_path, queue=queue, concurrency=2):
            yield queue
    finally:
        _forget_queue(queue)


@pytest.fixture
def to_worker(standing_worker, monkeypatch) -> Iterator[Celery]:
    """The portal's enqueueing sends to the standing worker; the app also sends the sweeper."""
    app = _sender(standing_worker)
    monkeypatch.setattr(portal.core.queue, "celery_app", app)
    yield app
    app.close()


def _killable_worker(queue: str, log_path: Path, env: dict[str, str]):
    """``celery worker`` with the solo pool: the task runs in the very process a test kills."""
    return celery_worker_process(env=env, log_path=log_path, queue=queue, concurrency=1)


def _sweep_until_settled(service: Service, sender: Celery, timeout: float = 30) -> Service:
    """Send beat's sweeper by name every half second (beat: every minute) until it settles."""
    deadline = time.monotonic() + timeout
    while True:
        sender.send_task(SWEEP_TASK)
        try:
            return wait_for_service(service, settled, timeout=0.5)
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The panel ----------------------------------------------------------------------------------------


@pytest.fixture
def office_product(simulator) -> Product:
    server = ServerFactory.for_simulator(simulator)
    return ProductFactory(
        group=server.group,
        settings={
            "deploy_targets": [{"server_id": server.pk, "network": "office"}],
            "download_mbps": DOWNLOAD_MBPS,
            "upload_mbps": UPLOAD_MBPS,
        },
    )


def _wait(condition: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout}s")
        time.sleep(0.05)
    return result


def _clients(simulator) -> list[dict[str, Any]]:
    """The panel's clients as the simulator holds them (``/_sim/state``: no faults, no log)."""
    return simulator.knob("GET", "state")["clients"]


def _api_calls(simulator, method: str | None = None) -> list[dict[str, Any]]:
    calls = simulator.knob("GET", "calls")
    return [c for c in calls if method is None or c["method"] == method]


def _assert_readable(reason: str, simulator) -> None:
    assert reason
    assert "Traceback" not in reason
    assert 'File "' not in reason
    assert "\n" not in reason
    assert simulator.token not in reason


def _assert_token_nowhere_in_the_module_log(service: Service, token: str) -> None:
    for entry in ModuleLogEntry.objects.filter(service=service):
        assert token not in json.dumps([entry.request, entry.response, entry.error])


# 1. A worker killed in the middle of a create (reliability.md class 6) ---------------------------

LATENCY_SECONDS = 1.0


@pytest.mark.parametrize("moment", ["post_in_flight", "post_applied"])
def test_worker_killed_mid_create_ends_with_one_client_adopted_by_the_next_worker(
    moment, to_worker, simulator, office_product, monkeypatch, tmp_path
):
    """SIGKILL while the panel holds the POST (it is applied after the worker died), or right
    after the panel applied it: the lease keeps every other run away until it expires, then the
    sweeper re-queues the create and the next worker adopts the client by its persisted name and
    password fingerprint instead of posting a second one."""
    customer = CustomerFactory()
    first_queue = _queue_name()
    first_sender = _sender(first_queue)
    monkeypatch.setattr(portal.core.queue, "celery_app", first_sender)
    env = {"DATABASE_URL": worker_database_url(), "CELERY_TASK_DEFAULT_QUEUE": first_queue}
    simulator.knob("POST", "faults", {"latency_ms": int(LATENCY_SECONDS * 1000)})
    try:
        with _killable_worker(first_queue, tmp_path / "killed-worker.log", env) as first:
            service = order_service(customer, office_product)
            if moment == "post_in_flight":
                # System status and the free IPs answered: the POST goes out next and the panel
                # holds it for its latency before applying it.
                _wait(lambda: len(_api_calls(simulator)) >= 2, "the placement's two reads")
                time.sleep(LATENCY_SECONDS / 2)
                assert _clients(simulator) == [], "the POST was applied before the kill"
            else:
                _wait(lambda: _clients(simulator), "the POST to be applied")
            os.kill(first.pid, signal.SIGKILL)
            assert first.wait(timeout=10) == -signal.SIGKILL
    finally:
        first_sender.close()
        _forget_queue(first_queue)

    dead = Service.objects.get(pk=service.pk)
    assert (dead.status, dead.pending_action) == (ServiceStatus.PROVISIONING, ServiceAction.CREATE)
    assert dead.action_token is not None, "the dead worker's lease"
    assert dead.remote_name, "the name is persisted before the POST"
    assert dead.create_fingerprints, "so is the password's fingerprint"
    assert dead.create_posted_at is not None
    simulator.knob("POST", "faults", {"latency_ms": 0})
    # The panel still applies the POST it was holding (post_in_flight), its answer goes nowhere.
    [left_behind] = _wait(lambda: _clients(simulator), "the held POST to be applied")
    assert left_behind["name"] == dead.remote_name
    time.sleep(0.3)  # the dead worker's last call reaches the call log before it is cleared
    simulator.knob("POST", "calls/reset")

    service = _sweep_until_settled(service, to_worker)

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert (service.last_error, service.action_attempts) == ("", 2)
    assert service.remote_name == dead.remote_name
    retry_calls = ModuleLogEntry.objects.filter(service=service).exclude(
        correlation_id=dead.action_token
    )
    lease_expired = dead.action_started_at + timedelta(seconds=LEASE_SECONDS)
    assert min(entry.created_at for entry in retry_calls) >= lease_expired, "ran under the lease"
    calls = [(c["method"], c["path"]) for c in _api_calls(simulator)]
    assert ("GET", f"/api/v1/client/{service.remote_name}") in calls, "looked up by name"
    assert [c for c in calls if c[0] == "POST"] == [], "adopted, not posted again"
    [client] = _clients(simulator)
    assert client["name"] == service.remote_name
    assert (client["b_download"], client["b_upload"]) == (DOWNLOAD_MBPS, UPLOAD_MBPS)


# 2. Garbage, an HTML 502, a hang and a 429 from the panel during a worker run (class 8) -----------

PANEL_FAULTS = {
    # A 200 whose body is not JSON, for good: a panel (or proxy) briefly broken is transient,
    # so each run retries the read in-process, defers, and the worker retries the run with
    # backoff until the budget is spent; the answer is quoted.
    "garbage": (
        {"garbage_next": 1000},
        ServiceStatus.FAILED,
        3,
        ["Gave up after 3 attempts: No deployable server yet", "answered GET system/status "
         "with a non-JSON answer (HTTP 200)"],
    ),
    # nginx's 502 page, for good: transient, so each run retries the read in-process (3 tries),
    # defers, and the worker retries the run with backoff until the budget (2 retries) is spent.
    "html_502": (
        {"html_error_next": 1000},
        ServiceStatus.FAILED,
        3,
        ["Gave up after 3 attempts: No deployable server yet", "answered GET system/status with "
         "an HTML page (HTTP 502): '502 Bad Gateway 502 Bad Gateway nginx'"],
    ),
    # Every call hangs past the worker's read timeout: transient, retried, then given up.
    "hang": (
        {"timeout_rate": 1, "hang_seconds": PANEL_READ_TIMEOUT + 1},
        ServiceStatus.FAILED,
        3,
        ["Gave up after 3 attempts: No deployable server yet",
         f"did not answer GET system/status within {PANEL_READ_TIMEOUT}s"],
    ),
    # One 429 on the POST: a clear refusal (not applied), transient; the next run posts again
    # and the service ends active with the error cleared.
    "429": (
        {"rules": [{"method": "POST", "path": "^client$", "status": 429,
                    "message": "Too Many Requests", "count": 1}]},
        ServiceStatus.ACTIVE,
        2,
        [],
    ),
}  # fmt: skip


@pytest.mark.parametrize("fault", list(PANEL_FAULTS))
def test_a_panel_fault_during_a_worker_run_ends_in_a_final_state_with_a_readable_reason(
    fault, to_worker, simulator, office_product
):
    knobs, status, attempts, reason_parts = PANEL_FAULTS[fault]
    simulator.knob("POST", "faults", knobs)

    service = wait_for_service(order_service(CustomerFactory(), office_product), settled)

    assert service.status == status, service.last_error
    assert service.action_attempts == attempts
    _assert_token_nowhere_in_the_module_log(service, simulator.token)
    if status == ServiceStatus.FAILED:
        _assert_readable(service.last_error, simulator)
        for part in reason_parts:
            assert part in service.last_error
        assert service.action_parked
        # Nothing was posted, so nothing may exist on the panel and nobody needs warning.
        assert (service.create_posted_at, service.needs_attention) == (None, False)
        assert _api_calls(simulator, "POST") == []
        assert _clients(simulator) == []
        failed = service.events.get(action="provisioning_failed")
        assert failed.data["reason"] == service.last_error
    else:
        assert service.last_error == ""
        posts = [c["status"] for c in _api_calls(simulator, "POST")]
        assert posts == [429, 200]
        assert [c["name"] for c in _clients(simulator)] == [service.remote_name]
        refused = ModuleLogEntry.objects.get(service=service, method="POST", http_status=429)
        _assert_readable(refused.error, simulator)
        assert "failed POST client (HTTP 429): Too Many Requests" in refused.error


def test_garbage_in_answer_to_the_post_is_retried_and_ends_with_one_client(
    to_worker, simulator, office_product
):
    """A 200 with a body that is not JSON in answer to the POST: the portal cannot know whether
    the panel created the client, so the worker's next run asks for it by name (here: the
    garbage was the whole answer, nothing was created) and posts again — one client, active."""
    latency = 0.8  # below the standing worker's 1 s read timeout
    simulator.knob("POST", "faults", {"latency_ms": int(latency * 1000)})
    service = order_service(CustomerFactory(), office_product)
    # System status answered; the free-IP read has arrived (its fault already decided) and is
    # held for its latency; the POST arrives after it, so the next fault decided is the POST's.
    _wait(lambda: _api_calls(simulator), "the system status read")
    time.sleep(latency / 2)
    simulator.knob("POST", "faults", {"garbage_next": 1})

    service = wait_for_service(service, settled)

    assert [(c["method"], c["fault"]) for c in _api_calls(simulator, "POST")] == [
        ("POST", "garbage"),
        ("POST", None),
    ]
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert (service.action_attempts, service.needs_attention) == (2, False)
    looked_up = [
        c
        for c in _api_calls(simulator)
        if c["method"] == "GET" and c["path"].endswith(f"/client/{service.remote_name}")
    ]
    assert [c["status"] for c in looked_up] == [404]
    garbage = ModuleLogEntry.objects.get(service=service, method="POST", outcome="error")
    _assert_readable(garbage.error, simulator)
    assert "answered POST client with a non-JSON answer (HTTP 200)" in garbage.error
    assert [c["name"] for c in _clients(simulator)] == [service.remote_name]


# 3. The broker unreachable when a service is created (class 7) ----------------------------------


def test_a_service_created_while_the_broker_is_down_is_provisioned_once_it_is_back(
    to_worker, simulator, office_product, client, monkeypatch, caplog
):
    """The admin's "create by hand" commits while nothing listens at the broker's address: the
    request still succeeds, the row keeps the create as work to do, and once the broker is back
    the sweeper re-queues it and a worker provisions it."""
    customer = CustomerFactory()
    down = _sender(
        to_worker.conf.task_default_queue, broker_url=f"redis://127.0.0.1:{_closed_port()}/0"
    )
    monkeypatch.setattr(portal.core.queue, "celery_app", down)
    client.force_login(StaffFactory())
    form = {"customer": customer.pk, "product": office_product.pk, "request_key": uuid.uuid4()}

    try:
        response = client.post(reverse("admin:provisioning_service_add"), form)
    finally:
        down.close()

    service = Service.objects.get(customer=customer)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:provisioning_service_change", args=[service.pk])
    assert (service.status, service.pending_action) == (ServiceStatus.PENDING, ServiceAction.CREATE)
    assert (service.action_attempts, service.action_token) == (0, None)
    assert f"Could not enqueue {RUN_TASK}({service.pk},)" in caplog.text
    monkeypatch.setattr(portal.core.queue, "celery_app", to_worker)  # the broker is back

    service = _sweep_until_settled(service, to_worker)

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert service.action_attempts == 1
    assert [c["name"] for c in _clients(simulator)] == [service.remote_name]
    assert len(_api_calls(simulator, "POST")) == 1


# 4. Configs and one-time links of a service that is over, its client still on the panel (14) ----


@pytest.mark.parametrize("status", [ServiceStatus.TERMINATED, ServiceStatus.FAILED])
def test_configs_and_one_time_links_are_refused_for_a_service_that_is_over(
    status, simulator, panel, client, private_cache
):
    """The client is still on the panel (a terminate that has not reached it yet, a failed
    create's leftover): the customer gets a 409 sentence, and no panel is asked at all."""
    server = ServerFactory.for_simulator(simulator)
    left_over = panel.create_client(network_name="office", name="vpn-left-over")
    service = ServiceFactory(
        status=status,
        server=server,
        network="office",
        remote_name=left_over.name,
        create_posted_at=timezone.now(),
        terminated_at=timezone.now() if status == ServiceStatus.TERMINATED else None,
    )
    client.force_login(service.customer.user)
    simulator.knob("POST", "calls/reset")

    config = client.get(f"/services/{service.pk}/config/wireguard.conf")
    otl = client.post(f"/services/{service.pk}/otl/")

    assert config.status_code == 409
    assert config["Content-Type"].startswith("text/plain")
    sentence = config.content.decode()
    assert re.fullmatch(r"[A-Z][^<>\n]*\.", sentence), sentence
    why = "has been terminated" if status == ServiceStatus.TERMINATED else "could not be set up"
    assert why in sentence
    assert "not set up yet" not in sentence
    assert otl.status_code == 409
    page = otl.content.decode()
    assert f'<p data-role="error">{sentence}</p>' in page
    for response in (config, otl):
        assert {"no-store", "private"} <= set(response["Cache-Control"].split(", "))
    for body in (sentence, page):
        assert left_over.password not in body
        assert "[Interface]" not in body
        assert "/otl/" not in body
    assert _api_calls(simulator) == []
    assert not ModuleLogEntry.objects.filter(service=service).exists()
    assert [c["name"] for c in _clients(simulator)] == [left_over.name]


# 5. A queued task message, read back from Redis, carries ids only (class 20) --------------------


@pytest.mark.services
def test_a_queued_create_message_in_redis_carries_the_service_id_only(monkeypatch):
    redis_url = redis_url_or_skip()
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        pytest.fail(f"REDIS_URL is set but the broker is {settings.CELERY_BROKER_URL}")
    import redis

    queue = _queue_name()  # nobody consumes it
    sender = _sender(queue)
    monkeypatch.setattr(portal.core.queue, "celery_app", sender)
    server = ServerFactory(api_token=f"panel-secret-{uuid.uuid4().hex}")
    product = ProductFactory(
        group=server.group,
        settings={"deploy_targets": [{"server_id": server.pk, "network": "office"}]},
    )
    customer = CustomerFactory()
    connection = redis.Redis.from_url(redis_url)
    try:
        service = order_service(customer, product)
        raw_messages = connection.lrange(queue, 0, -1)
    finally:
        sender.close()
        _forget_queue(queue)
        connection.close()

    [raw] = raw_messages
    envelope = json.loads(raw)
    assert envelope["content-type"] == "application/json"
    assert envelope["properties"]["body_encoding"] == "base64"
    body = base64.b64decode(envelope["body"])
    args, kwargs, _embed = json.loads(body)
    assert (args, kwargs) == ([service.pk], {})
    assert envelope["headers"]["task"] == RUN_TASK
    assert envelope["headers"]["argsrepr"] == f"({service.pk},)"
    secrets = [
        server.api_token,
        customer.user.email,
        TEST_PASSWORD,
        customer.user.password,  # its hash
        settings.SECRET_KEY,
    ]
    for secret in secrets:
        assert secret.encode() not in raw
        assert secret.encode() not in body

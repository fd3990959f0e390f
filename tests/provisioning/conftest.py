"""Fixtures for provisioning: a real Celery worker on the test database, and the test's own client
of the simulator. The cast and the factory fixtures are in tests/conftest.py."""

import time
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from provisioning.models import Service
from tests.workers import celery_worker
from vpnpanel import PanelClient


def _worker_database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def live_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """A real ``celery worker`` (two prefork processes) consuming the tests' queue."""
    with django_db_blocker.unblock():
        database_url = _worker_database_url()
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    with celery_worker(
        env={"DATABASE_URL": database_url},
        log_path=log_path,
        queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        concurrency=2,
    ) as queue:
        yield queue


@pytest.fixture
def panel(simulator) -> PanelClient:
    """The test's own client of the simulator, to set up and inspect the panel's state."""
    return PanelClient(simulator.url, simulator.token)


def wait_for_service(
    service: Service, done: Callable[[Service], bool], timeout: float = 30
) -> Service:
    """Poll the row until ``done`` holds; the worker commits in its own process."""
    deadline = time.monotonic() + timeout
    while True:
        service.refresh_from_db()
        if done(service):
            return service
        if time.monotonic() > deadline:
            raise AssertionError(
                f"service {service.pk} still {service.status}/{service.pending_action or '-'}: "
                f"{service.last_error}"
            )
        time.sleep(0.1)


def settled(service: Service) -> bool:
    """No action pending, or the pending one parked as failed."""
    return not service.pending_action or service.action_failed_at is not None

"""Fixtures for provisioning: the real Celery worker on the test database (its one definition is in
tests/worker_fixtures.py), and the test's own client of the simulator. The cast and the factory
fixtures are in tests/conftest.py."""

import time
from collections.abc import Callable

import pytest

from provisioning.models import Service
from vpnpanel import PanelClient


@pytest.fixture(scope="session")
def live_worker(live_worker: str) -> str:
    """The session's one real Celery worker (tests/worker_fixtures.py), under the name the
    modules that import it from here know."""
    return live_worker


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

"""Fixtures for notifications: the queued backend in front (pytest-django puts locmem there) and
locmem behind it, tasks caught or run here, and the provisioning tests' live worker and panel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery.canvas import Signature
from kombu.exceptions import OperationalError

from portal.celery import app as celery_app
from tests.notifications import backends
from tests.provisioning.conftest import live_worker, panel  # noqa: F401 - fixtures used here

QUEUED_BACKEND = "portal.notifications.backends.QueuedEmailBackend"
LOCMEM_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def queued_email(settings) -> None:
    """Every email through the queued backend, as configured; delivered to ``mail.outbox``."""
    settings.EMAIL_BACKEND = QUEUED_BACKEND
    settings.NOTIFICATIONS_DELIVERY_BACKEND = LOCMEM_BACKEND


@pytest.fixture
def broker_down(monkeypatch) -> Iterator[None]:
    """Sending a task fails as it does when the broker cannot be reached."""

    def refuse(self: Signature, *args: object, **kwargs: object) -> None:
        raise OperationalError("[Errno 111] Connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(Signature, "apply_async", refuse)
        yield


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Tasks sent by name run here and now, when they are sent (after the commit)."""
    import portal.notifications.tasks  # noqa: F401 - registers the tasks in this process

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def failing_delivery(settings) -> type[backends.DisconnectingBackend]:
    """The mail server drops every connection (a transient failure); retries are due at once."""
    backends.DisconnectingBackend.calls = 0
    settings.NOTIFICATIONS_DELIVERY_BACKEND = "tests.notifications.backends.DisconnectingBackend"
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 0
    return backends.DisconnectingBackend

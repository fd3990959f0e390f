"""Pytest plugin: the one real Celery worker of a test session (register via ``pytest_plugins``).

Defined here, once: a session fixture defined (or imported) in several conftests is set up once
per definition, and each copy started a worker of its own on the same queue.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.workers import celery_worker

FLUSH_ATTEMPTS = 3


def pytest_configure(config) -> None:
    """A transactional test's flush (TRUNCATE of every table) can deadlock on PostgreSQL with the
    session's worker finishing work the test queued; PostgreSQL then aborts one of the two.
    When it aborts the flush, flush again once the worker's transaction is through, instead of
    leaving the database full for the next tests."""
    from django.core.management.base import CommandError
    from django.test.testcases import TransactionTestCase

    flush = TransactionTestCase._fixture_teardown

    def flush_again_after_a_deadlock(self) -> None:
        for attempt in range(1, FLUSH_ATTEMPTS + 1):
            try:
                return flush(self)
            except CommandError as exc:
                if attempt == FLUSH_ATTEMPTS or "deadlock detected" not in str(exc.__cause__):
                    raise
                time.sleep(0.5)

    TransactionTestCase._fixture_teardown = flush_again_after_a_deadlock


def worker_database_url() -> str:
    """The test database as a DATABASE_URL for a worker process (SQLite file or PostgreSQL)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def live_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """A real ``celery worker`` (four prefork processes) consuming the tests' queue, on the test
    database; one per pytest process (so per xdist worker). Four, so that two jobs a test runs
    at once (the race tests) never wait behind an earlier test's emails."""
    with django_db_blocker.unblock():
        database_url = worker_database_url()
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    with celery_worker(
        env={"DATABASE_URL": database_url},
        log_path=log_path,
        queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        concurrency=4,
    ) as queue:
        yield queue

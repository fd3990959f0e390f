"""The test suite's own safety net (tests/worker_fixtures.py): a transactional test's flush that
PostgreSQL aborted as a deadlock with the session's worker is made again; other errors are not
hidden."""

import django.test.testcases as testcases
import pytest
from django.core.management.base import CommandError
from django.db import OperationalError
from django.test.testcases import TransactionTestCase


class Teardown:
    available_apps = None
    serialized_rollback = False

    def _databases_names(self, include_mirrors=True):
        return ["default"]


def flush_failing(errors, calls):
    def call_command(*args, **kwargs):
        calls.append(args)
        if errors:
            raise CommandError("Database couldn't be flushed.") from errors.pop(0)

    return call_command


def test_a_flush_aborted_as_a_deadlock_is_made_again(monkeypatch):
    calls = []
    deadlock = OperationalError("deadlock detected\nDETAIL: Process 1 waits for …")
    monkeypatch.setattr(testcases, "call_command", flush_failing([deadlock], calls))

    TransactionTestCase._fixture_teardown(Teardown())

    assert calls == [("flush",), ("flush",)]


def test_any_other_flush_error_is_raised_at_once(monkeypatch):
    calls = []
    missing = OperationalError('relation "billing_renewal" does not exist')
    monkeypatch.setattr(testcases, "call_command", flush_failing([missing], calls))

    with pytest.raises(CommandError):
        TransactionTestCase._fixture_teardown(Teardown())
    assert calls == [("flush",)]

"""Calls made at the same moment from threads, each on its own database connection: the way
the concurrency tests race payments, checkouts and scheduled runs on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def at_once(calls: list[Callable[[], T]], *, timeout: float = 120) -> tuple[list[T], list[str]]:
    """Run each call in a thread of its own, released together; returns what they returned and
    how those that raised failed (``repr``), each in the order they finished."""
    start = threading.Barrier(len(calls))
    results: list[T] = []
    errors: list[str] = []

    def run(call: Callable[[], T]) -> None:
        try:
            start.wait(timeout=30)
            results.append(call())
        except Exception as exc:  # every failure is the finding
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors

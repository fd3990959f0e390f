"""Enqueueing Celery tasks after the surrounding transaction commits — the one way we enqueue."""

import logging
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, *args: Any) -> None:
    """Send ``task`` with ``args`` (ids only) once the current transaction has committed.

    A broker outage at that moment is logged, not raised: the row is the outbox and the sweeper
    re-queues its pending work, so the request that committed must not fail afterwards.
    """

    def send() -> None:
        try:
            task.apply_async(args=args, retry=False)
        except Exception:
            logger.exception("Could not enqueue %s%r; the sweeper will pick it up", task.name, args)

    transaction.on_commit(send)

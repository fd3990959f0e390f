"""Enqueueing Celery tasks after the surrounding transaction commits — the one way we enqueue."""

import logging
from typing import Any

from django.db import transaction

from portal.celery import app as celery_app

logger = logging.getLogger(__name__)


def enqueue_on_commit(task_name: str, *args: Any) -> None:
    """Send the task named ``task_name`` with ``args`` (ids only) once the transaction commits.

    Tasks are sent by name, so the code that enqueues never imports the module that defines the
    task (no import circle between a service and its task wrapper). A broker outage at that moment
    is logged, not raised: the row is the outbox and a sweeper re-queues its pending work, so the
    request that committed must not fail afterwards.
    """

    def send() -> None:
        try:
            celery_app.signature(task_name, args=args).apply_async(retry=False)
        except Exception:
            logger.exception("Could not enqueue %s%r; the sweeper will pick it up", task_name, args)

    transaction.on_commit(send)

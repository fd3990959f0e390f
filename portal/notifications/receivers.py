"""What notifications hears from the layers below it; each receiver only queues a task."""

from __future__ import annotations

from typing import Any

from portal.core.queue import enqueue_on_commit

WELCOME_TASK = "notifications.send_welcome_email"


def on_service_activated(sender: Any, service_id: int, **kwargs: Any) -> None:
    """``provisioning.signals.service_activated`` (sent after its commit): the welcome email."""
    enqueue_on_commit(WELCOME_TASK, service_id)

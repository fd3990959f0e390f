"""What notifications hears from the layers below it; each receiver only queues a task."""

from __future__ import annotations

from typing import Any

from portal.core.queue import enqueue_on_commit

WELCOME_TASK = "notifications.send_welcome_email"
USAGE_ALERT_TASK = "notifications.send_usage_alert"


def on_service_activated(sender: Any, service_id: int, **kwargs: Any) -> None:
    """``provisioning.signals.service_activated`` (sent after its commit): the welcome email."""
    enqueue_on_commit(WELCOME_TASK, service_id)


def on_usage_threshold_crossed(
    sender: Any, service_id: int, year: int, month: int, threshold_gb: int, **kwargs: Any
) -> None:
    """``provisioning.signals.usage_threshold_crossed`` (after its commit): the usage alert."""
    enqueue_on_commit(USAGE_ALERT_TASK, service_id, year, month, threshold_gb)

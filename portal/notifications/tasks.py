"""Thin Celery wrappers, sent by name (``portal.core.queue.enqueue_on_commit``), ids only."""

from __future__ import annotations

from celery import shared_task

from portal.notifications import services, usage_alert, welcome
from portal.notifications.exceptions import DeliveryRetry


@shared_task(
    bind=True,
    name="notifications.deliver_email",
    acks_late=True,
    max_retries=None,
    ignore_result=True,
)
def deliver_email(self, record_id: int) -> None:
    """The row decides whether to send and when to give up; this only schedules the retry."""
    try:
        services.email_deliver(record_id=record_id)
    except DeliveryRetry as exc:
        raise self.retry(countdown=exc.countdown, exc=exc) from exc


@shared_task(name="notifications.sweep_queued_emails", ignore_result=True)
def sweep_queued_emails() -> int:
    return services.emails_requeue_stale()


@shared_task(name="notifications.send_welcome_email", acks_late=True, ignore_result=True)
def send_welcome_email(service_id: int) -> None:
    welcome.welcome_email_send(service_id=service_id)


@shared_task(name="notifications.send_usage_alert", acks_late=True, ignore_result=True)
def send_usage_alert(service_id: int, year: int, month: int, threshold_gb: int) -> None:
    usage_alert.usage_alert_email_send(
        service_id=service_id, year=year, month=month, threshold_gb=threshold_gb
    )

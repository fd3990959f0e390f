"""Thin Celery wrappers: take ids, call a service, decide whether to retry."""

import random

from celery import shared_task
from django.conf import settings

from provisioning import services


def retry_countdown(retries: int) -> float:
    """Exponential backoff with full jitter, capped below the broker's visibility timeout."""
    ceiling = min(
        settings.PROVISIONING_RETRY_BASE_SECONDS * 2**retries,
        settings.PROVISIONING_RETRY_MAX_SECONDS,
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)


@shared_task(
    bind=True,
    name="provisioning.run_pending_action",
    acks_late=True,
    max_retries=None,
    ignore_result=True,
)
def run_pending_action(self, service_id: int) -> None:
    try:
        services.service_run_pending_action(service_id=service_id)
    except services.ProvisioningRetry as exc:
        if self.request.retries >= settings.PROVISIONING_MAX_RETRIES:
            services.service_park_action(
                service_id=service_id,
                reason=f"Gave up after {self.request.retries + 1} attempts: {exc}",
            )
            return
        raise self.retry(countdown=retry_countdown(self.request.retries), exc=exc) from exc


@shared_task(name="provisioning.sweep_stale_actions", ignore_result=True)
def sweep_stale_actions() -> int:
    return services.services_requeue_stale()

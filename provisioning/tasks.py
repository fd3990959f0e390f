"""Thin Celery wrappers: take ids, call a service, decide whether to retry.

Every task is sent by its name (``portal.core.queue.enqueue_on_commit``), so no service module
imports this one: the dependencies run one way, tasks → services.
"""

import logging
from typing import Any

from celery import shared_task

from portal.core.queue import enqueue_on_commit
from provisioning import licences, reconciliation, services, usage
from provisioning.exceptions import ProvisioningError, ProvisioningRetry
from provisioning.models import Server, Service
from provisioning.module_log import module_log_cleanup
from vpnpanel import PanelError

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="provisioning.run_pending_action",
    acks_late=True,
    max_retries=None,
    ignore_result=True,
)
def run_pending_action(self, service_id: int) -> None:
    """The service row decides: what is pending, whether a run is due, when to give up."""
    try:
        services.service_run_pending_action(service_id=service_id)
    except ProvisioningRetry as exc:
        raise self.retry(countdown=exc.countdown, exc=exc) from exc


@shared_task(name="provisioning.sweep_stale_actions", ignore_result=True)
def sweep_stale_actions() -> int:
    return services.services_requeue_stale()


# Reconciliation, usage metrics, housekeeping (beat) ----------------------------------------------

USAGE_REFRESH_MAX_RETRIES = 3


@shared_task(name="provisioning.reconcile_panels", ignore_result=True)
def reconcile_panels() -> int:
    """Beat: one reconciliation task per enabled server."""
    server_ids = reconciliation.servers_to_reconcile()
    for server_id in server_ids:
        enqueue_on_commit("provisioning.reconcile_server", server_id)
    return len(server_ids)


@shared_task(name="provisioning.reconcile_server", ignore_result=True)
def reconcile_server_task(server_id: int) -> dict[str, Any]:
    try:
        return reconciliation.reconcile_server(server_id=server_id).as_dict()
    except Server.DoesNotExist:
        logger.info("Server %s is gone; nothing to reconcile", server_id)
        return {}


@shared_task(name="provisioning.pull_usage", ignore_result=True)
def pull_usage() -> int:
    """Beat: one usage pull per panel that has metered services."""
    server_ids = usage.usage_servers_to_pull()
    for server_id in server_ids:
        enqueue_on_commit("provisioning.pull_server_usage", server_id)
    return len(server_ids)


@shared_task(name="provisioning.pull_server_usage", ignore_result=True)
def pull_server_usage(server_id: int) -> dict[str, object]:
    try:
        return usage.usage_pull_server(server_id=server_id).as_dict()
    except Server.DoesNotExist:
        logger.info("Server %s is gone; no usage to pull", server_id)
        return {}


@shared_task(bind=True, name="provisioning.refresh_service_usage", ignore_result=True)
def refresh_service_usage(self, service_id: int) -> None:
    """The admin's "Refresh now": retries a transient panel failure a few times, then gives up."""
    try:
        usage.service_usage_refresh(service_id=service_id)
    except PanelError as exc:
        if exc.transient and self.request.retries < USAGE_REFRESH_MAX_RETRIES:
            countdown = services.retry_countdown(self.request.retries + 1, exc.retry_after)
            raise self.retry(countdown=countdown, exc=exc) from exc
        logger.warning("Usage refresh of service %s failed: %s", service_id, exc)
    except (ProvisioningError, Service.DoesNotExist) as exc:
        logger.warning("Usage refresh of service %s not possible: %s", service_id, exc)


@shared_task(name="provisioning.cleanup_module_log", ignore_result=True)
def cleanup_module_log() -> int:
    return module_log_cleanup(older_than_days=None)


@shared_task(name="provisioning.check_licences", ignore_result=True)
def check_licences() -> int:
    """Beat: check the licence of every product with a key whose last result ran out."""
    return licences.products_check_licences()

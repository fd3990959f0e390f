"""Provisioning's use cases: every change of a Service, and every panel call it needs, goes here.

- :mod:`.lifecycle` — the public verbs (``service_create``, ``service_suspend``, …): what the
  admin, the client area, billing and the API call. Each is idempotent.
- :mod:`.outbox` — the Service row as its own outbox: queue, claim, lease, finish, park, sweep.
- :mod:`.runner` — the worker's entry point: run the pending action, retry or park on failure.
- :mod:`.create` — the create algorithm: placement, name, POST then PUT, rollback.
- :mod:`.actions` — the worker's steps for suspend, unsuspend, terminate, change of package.
- :mod:`.events` — the audit trail, and the one place a status changes.
"""

from provisioning.exceptions import (
    ActionInProgress,
    ActionRefused,
    ProvisioningError,
    ProvisioningRetry,
)
from provisioning.services.events import service_event_record
from provisioning.services.lifecycle import (
    service_change_package,
    service_clear_attention,
    service_create,
    service_reapply_suspend,
    service_request_action,
    service_retry,
    service_suspend,
    service_terminate,
    service_unsuspend,
)
from provisioning.services.outbox import retry_countdown, services_requeue_stale
from provisioning.services.runner import service_run_pending_action

__all__ = [
    "ActionInProgress",
    "ActionRefused",
    "ProvisioningError",
    "ProvisioningRetry",
    "retry_countdown",
    "service_change_package",
    "service_clear_attention",
    "service_create",
    "service_event_record",
    "service_reapply_suspend",
    "service_request_action",
    "service_retry",
    "service_run_pending_action",
    "service_suspend",
    "service_terminate",
    "service_unsuspend",
    "services_requeue_stale",
]

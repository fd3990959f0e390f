"""The worker's entry point: claim the pending action, run it, decide what a failure means.

Transient panel failures release the lease and raise :class:`ProvisioningRetry` for the task to
retry; permanent ones park the action as failed, with the reason, for an admin to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings

from provisioning.exceptions import (
    LeaseLost,
    PlacementDeferred,
    ProvisioningError,
    ProvisioningRetry,
)
from provisioning.models import ServiceAction
from provisioning.services import actions, create
from provisioning.services.outbox import (
    Claim,
    claim,
    maybe_created_warning,
    park,
    release,
    retry_countdown,
)
from vpnpanel import PanelError

logger = logging.getLogger(__name__)

A = ServiceAction
RUNS: dict[str, Callable[[Claim], None]] = {
    A.CREATE: create.provision,
    A.SUSPEND: actions.set_panel_status,
    A.UNSUSPEND: actions.set_panel_status,
    A.TERMINATE: actions.terminate,
    A.CHANGE_PACKAGE: actions.apply_bandwidth,
}


def service_run_pending_action(*, service_id: int) -> None:
    """Carry out whatever the service has pending; a no-op when nothing is or another worker is."""
    claimed = claim(service_id)
    if claimed is None:
        return
    run = RUNS[claimed.service.pending_action]
    try:
        run(claimed)
    except LeaseLost:
        logger.warning("Service %s: lease lost mid-run; the other worker carries on", service_id)
    except PanelError as exc:
        if not exc.transient:
            _give_up(claimed, str(exc))
        else:
            _retry_later(claimed, str(exc), retry_after=exc.retry_after)
    except PlacementDeferred as exc:
        _retry_later(claimed, exc.message)
    except ProvisioningError as exc:
        _give_up(claimed, exc.message)
    except Exception as exc:
        logger.exception("Service %s: unexpected error in %s", service_id, run.__name__)
        _give_up(claimed, f"Unexpected error ({type(exc).__name__}): {exc}")


def _give_up(claimed: Claim, reason: str) -> None:
    """Park the action; a create whose POST may have reached the panel is flagged for an admin
    (the client may exist all the same, uncapped and uncounted)."""
    park(claimed, reason, attention=maybe_created_warning(claimed.service))


def _retry_later(claimed: Claim, error: str, *, retry_after: float | None = None) -> None:
    """Release the lease and schedule the next run, or park once this request's runs are spent.

    The limit counts runs on the row (``action_attempts``), so a re-queue by the sweeper or a
    duplicate message cannot start the count again.
    """
    service = claimed.service
    if service.action_attempts > settings.PROVISIONING_MAX_RETRIES:
        park(
            claimed,
            f"Gave up after {service.action_attempts} attempts: {error}",
            attention=maybe_created_warning(service),
        )
        return
    countdown = retry_countdown(service.action_attempts, retry_after)
    release(claimed, error, due_in=countdown)
    raise ProvisioningRetry(error, countdown=countdown)

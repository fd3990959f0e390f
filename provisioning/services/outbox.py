"""The Service row as its own outbox: queue an action, claim it, hold the lease, finish or park.

``pending_action`` is work that must reach the panel. Queuing it records it on the row and sends
the worker's task after commit; the sweeper re-queues it when that message is lost. A worker
claims a lease on the row (``action_token``), talks to the panel outside any transaction and
finishes under a row lock only while it still holds the lease: a worker that lost it (it was
slow, another took over) writes nothing more. Every status change writes an audit row.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.core import metrics
from portal.core.queue import enqueue_on_commit
from provisioning import live
from provisioning.exceptions import LeaseLost
from provisioning.models import Server, Service, ServiceAction, ServiceStatus
from provisioning.panels import panel_for
from provisioning.services.events import record_event, transition
from provisioning.signals import service_activated
from vpnpanel import CallRecord, PanelClient

logger = logging.getLogger(__name__)

A = ServiceAction
S = ServiceStatus
RUN_TASK = "provisioning.run_pending_action"
# Retry messages carry an ETA computed from the same countdown as action_due_at; allow for clocks.
DUE_TOLERANCE_SECONDS = 2


@dataclass(frozen=True)
class Claim:
    """One worker's lease on a service: valid while the row's ``action_token`` is ``token``."""

    service: Service
    token: uuid.UUID


def queue_action(service: Service, action: str) -> None:
    """Record ``action`` as the service's pending work and send the worker after commit."""
    service.pending_action = action
    service.action_requested_at = service.action_due_at = timezone.now()
    service.action_failed_at = None
    service.action_token = None
    service.action_started_at = None
    service.action_attempts = 0
    enqueue_on_commit(RUN_TASK, service.pk)


def claim(service_id: int) -> Claim | None:
    """Take the lease on the service's pending action, or None when there is nothing to do now.

    Nothing to do: no action, a parked one, another worker's fresh lease, or a message of an
    older retry chain arriving before this request is due.
    """
    with transaction.atomic():
        service = Service.objects.select_for_update().filter(pk=service_id).first()
        if service is None or not service.action_in_flight:
            return None
        if _lease_is_fresh(service) or _not_yet_due(service):
            return None
        if service.action_attempts > settings.PROVISIONING_MAX_RETRIES:
            park_locked(
                service,
                f"The worker stopped {service.action_attempts} times while running this action "
                "(killed or crashed) without a result.",
                attention=maybe_created_warning(service),
            )
            return None
        service.action_token = uuid.uuid4()
        service.action_started_at = timezone.now()
        service.action_attempts += 1
        if service.pending_action == A.CREATE and service.status != S.PROVISIONING:
            transition(service, S.PROVISIONING, "provisioning_started")
        service.save()
    return Claim(service, service.action_token)


def _not_yet_due(service: Service) -> bool:
    early = timezone.now() + timedelta(seconds=DUE_TOLERANCE_SECONDS)
    return service.action_due_at is not None and service.action_due_at > early


def _lease_is_fresh(service: Service) -> bool:
    if service.action_token is None or service.action_started_at is None:
        return False
    age = timezone.now() - service.action_started_at
    return age < timedelta(seconds=settings.PROVISIONING_LEASE_SECONDS)


def claim_panel(claim: Claim, server: Server) -> PanelClient:
    """A client whose every call is logged and keeps this worker's lease on the service fresh.

    The lease is renewed after a call when a tenth of it has gone by since it was last renewed
    (every write renews it first anyway, ``hold_lease``): a run of quick calls costs one update,
    not one per call, and the lease still only has to outlive a single call.
    """
    service_id, token = claim.service.pk, claim.token
    every = timedelta(seconds=settings.PROVISIONING_LEASE_SECONDS / 10)

    def renew(record: CallRecord) -> None:
        now = timezone.now()
        renewed = claim.service.action_started_at
        if renewed is not None and now - renewed < every:
            return
        Service.objects.filter(pk=service_id, action_token=token).update(action_started_at=now)
        claim.service.action_started_at = now

    return panel_for(
        server,
        action=claim.service.pending_action,
        service=claim.service,
        correlation_id=claim.token,
        after_call=renew,
    )


def update_claimed(claim: Claim, **fields: Any) -> None:
    """Persist fields of the claimed service, only while this worker holds the lease."""
    updated = Service.objects.filter(pk=claim.service.pk, action_token=claim.token).update(**fields)
    if not updated:
        raise LeaseLost
    for name, value in fields.items():
        setattr(claim.service, name, value)


def hold_lease(claim: Claim) -> None:
    """Renew the lease before a panel write, or stop: a worker that lost it must not write."""
    update_claimed(claim, action_started_at=timezone.now())


def _locked_if_still_ours(claim: Claim) -> Service | None:
    service = Service.objects.select_for_update().get(pk=claim.service.pk)
    if service.action_token != claim.token:
        logger.warning("Service %s: lease lost, result of this run is dropped", service.pk)
        return None
    return service


def finish(
    claim: Claim,
    *,
    to_status: str | None,
    event: str,
    data: dict[str, Any] | None = None,
    resolves_attention: bool = False,
) -> None:
    """Record the outcome if this worker still holds the lease.

    ``resolves_attention``: the client under the service's name now exists as intended (created)
    or is gone (terminated), so a flagged orphan of an earlier attempt is dealt with. A change of
    status drops the panel's cached live status, so nobody sees a suspended client online.
    """
    with transaction.atomic():
        service = _locked_if_still_ours(claim)
        if service is None:
            return
        _count_on_commit(service.pending_action, "succeeded")
        for name in ("server_id", "network", "remote_name"):
            setattr(service, name, getattr(claim.service, name))
        if service.pending_action == A.CHANGE_PACKAGE and service.pending_product_id:
            service.product_id = service.pending_product_id
        clear_action(service)
        service.last_error = ""
        if resolves_attention:
            service.needs_attention = False
            service.attention_reason = ""
        if to_status and to_status != service.status:
            first_activation = to_status == S.ACTIVE and service.activated_at is None
            transition(service, to_status, event, data)
            if service.server_id is not None:
                server = claim.service.server
                transaction.on_commit(lambda: live.forget_live_status(server))
            if first_activation:
                transaction.on_commit(partial(_announce_activation, service.pk))
        else:
            record_event(service, None, event, data)
        service.save()


def _announce_activation(service_id: int) -> None:
    """A listener's failure (an email not queued) must not touch the service: log it, go on."""
    for receiver, result in service_activated.send_robust(sender=Service, service_id=service_id):
        if isinstance(result, Exception):
            logger.error(
                "Service %s: %r failed on service_activated: %s", service_id, receiver, result
            )


def release(claim: Claim, error: str, *, due_in: float) -> None:
    """Give the lease back and schedule the next run in ``due_in`` seconds."""
    with transaction.atomic():
        service = _locked_if_still_ours(claim)
        if service is None:
            return
        service.action_token = None
        service.action_started_at = None
        service.action_due_at = timezone.now() + timedelta(seconds=due_in)
        service.last_error = error
        service.save()
        _count_on_commit(service.pending_action, "retrying")


def park(claim: Claim, reason: str, *, attention: str = "") -> None:
    """Give up on the action, visibly, for an admin to retry; a failed create fails the service."""
    with transaction.atomic():
        service = _locked_if_still_ours(claim)
        if service is not None:
            park_locked(service, reason, attention=attention)


def park_locked(service: Service, reason: str, *, attention: str = "") -> None:
    action = service.pending_action
    service.action_failed_at = timezone.now()
    service.action_token = None
    service.action_started_at = None
    service.last_error = reason
    if attention:
        service.needs_attention = True
        service.attention_reason = attention
    if action == A.CREATE:
        transition(service, S.FAILED, "provisioning_failed", {"reason": reason})
    else:
        record_event(service, None, f"{action}_failed", {"reason": reason})
    service.save()
    _count_on_commit(action, "parked")


def _count_on_commit(action: str, outcome: str) -> None:
    transaction.on_commit(
        partial(metrics.count_provisioning_outcome, action=action, outcome=outcome)
    )


def clear_action(service: Service) -> None:
    service.pending_action = ""
    service.pending_product = None
    service.action_requested_at = None
    service.action_due_at = None
    service.action_token = None
    service.action_started_at = None
    service.action_failed_at = None


def maybe_created_warning(service: Service) -> str:
    """The admin's warning when a create given up on may still have reached the panel."""
    if service.pending_action != A.CREATE or service.create_posted_at is None:
        return ""
    return (
        f"The last create of {service.remote_name!r} on {service.server} may have reached the "
        "panel: check for that client there, or retry this service to adopt it."
    )


def retry_countdown(attempt: int, retry_after: float | None = None) -> float:
    """Seconds before run ``attempt + 1``: exponential backoff with equal jitter, capped below the
    broker's visibility timeout; never sooner than the panel's Retry-After."""
    ceiling = min(
        settings.PROVISIONING_RETRY_BASE_SECONDS * 2 ** (attempt - 1),
        settings.PROVISIONING_RETRY_MAX_SECONDS,
    )
    countdown = ceiling / 2 + random.uniform(0, ceiling / 2)
    if retry_after is not None:
        countdown = max(countdown, min(retry_after, settings.PROVISIONING_RETRY_MAX_SECONDS))
    return countdown


def services_requeue_stale(*, older_than: timedelta | None = None) -> int:
    """The sweeper: re-queue pending actions whose task message was lost or whose worker died."""
    older_than = older_than or timedelta(seconds=settings.PROVISIONING_SWEEP_AFTER_SECONDS)
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.PROVISIONING_LEASE_SECONDS)
    stale = (
        Service.objects.exclude(pending_action="")
        .filter(action_failed_at__isnull=True, action_due_at__lte=now - older_than)
        .exclude(action_token__isnull=False, action_started_at__gt=lease_expired)
    )
    count = 0
    for service_id in stale.values_list("pk", flat=True):
        with transaction.atomic():
            updated = Service.objects.filter(
                pk=service_id, action_failed_at__isnull=True, action_due_at__lte=now - older_than
            ).update(action_due_at=now)
            if updated:
                enqueue_on_commit(RUN_TASK, service_id)
                count += 1
    return count

"""Provisioning use cases: every change of a Service, and every panel call it needs, goes here.

The Service row is the outbox. Requesting an action (``service_request_action``) records it as
``pending_action`` and enqueues the worker after commit; the worker (``service_run_pending_action``)
claims a lease on the row, talks to the panel outside any transaction, and finishes under a row
lock only if it still holds the lease. Transient panel failures release the lease and raise
:class:`ProvisioningRetry` for the task to retry; permanent ones park the action as failed, with
the reason, for an admin to retry. Every status change writes a ServiceEvent in its transaction.
"""

from __future__ import annotations

import contextlib
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.accounts.models import Customer
from portal.core.queue import enqueue_on_commit
from provisioning.models import (
    Product,
    Server,
    Service,
    ServiceAction,
    ServiceEvent,
    ServiceStatus,
)
from provisioning.module_log import ModuleLogRecorder
from provisioning.naming import deduplicated, render_name_rule
from provisioning.panels import panel_client_for
from provisioning.placement import (
    PlacementReport,
    accounts_taken,
    deployable_candidates,
)
from vpnpanel import (
    CallRecord,
    ClientStatus,
    PanelClient,
    PanelError,
    PanelNotFound,
    PanelRejected,
    VpnClient,
)

logger = logging.getLogger(__name__)

A = ServiceAction
S = ServiceStatus
NAME_IN_USE = "The name is already in use"
MAX_RENAMES = 5
# Retry messages carry an ETA computed from the same countdown as action_due_at; allow for clocks.
DUE_TOLERANCE_SECONDS = 2
CAPACITY_MESSAGES = (
    "VPN account limit exceeded",
    "No free IP address",
    "IP address already in use",
)
REQUIRED_STATUS: dict[str, frozenset[str]] = {
    A.SUSPEND: frozenset({S.ACTIVE}),
    A.UNSUSPEND: frozenset({S.SUSPENDED}),
    A.TERMINATE: frozenset({S.PENDING, S.ACTIVE, S.SUSPENDED, S.FAILED}),
    A.CHANGE_PACKAGE: frozenset({S.ACTIVE, S.SUSPENDED}),
    A.CREATE: frozenset({S.PENDING, S.FAILED}),
}


class ProvisioningError(Exception):
    """A request that cannot be carried out; the message is for the admin or customer."""


class ProvisioningRetry(Exception):
    """A transient failure: the action stays queued; the task runs it again after ``countdown``."""

    def __init__(self, message: str, *, countdown: float) -> None:
        super().__init__(message)
        self.countdown = countdown


class LeaseLost(Exception):
    """Another worker holds the service now; this run stops without writing anything more."""


class PlacementDeferred(Exception):
    """Nothing is deployable right now because a panel could not be asked: try again later."""


@dataclass(frozen=True)
class Claim:
    service: Service
    token: uuid.UUID


# Requests (web, admin, billing) ------------------------------------------------------------------


def service_create(*, customer: Customer, product: Product, actor: Any = None) -> Service:
    """A new service, queued for provisioning once this transaction commits."""
    with transaction.atomic():
        service = Service.objects.create(customer=customer, product=product)
        _queue(service, A.CREATE)
        _record(service, actor, "created", "", service.status, {"product": product.pk})
        service.save()
    return service


def service_request_action(
    *, service_id: int, action: str, actor: Any = None, product: Product | None = None
) -> Service:
    """Queue ``action`` on a service; ``product`` is the new product of a change of package.

    A parked (failed) action may be replaced (the event says which) or retried; a queued or
    running one may not. A new product takes effect when the panel has its bandwidth.
    """
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service_id)
        _check_request(service, action, product)
        data: dict[str, Any] = {}
        if service.action_parked:
            data["replaces"] = service.pending_action
        if action == A.CHANGE_PACKAGE:
            assert product is not None
            data.update(from_product=service.product_id, to_product=product.pk)
        service.pending_product = product if action == A.CHANGE_PACKAGE else None
        _queue(service, action)
        _record(service, actor, f"{action}_requested", service.status, service.status, data)
        service.save()
    return service


def service_retry(*, service_id: int, actor: Any = None) -> Service:
    """Re-queue a parked action (or the create of a failed service)."""
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service_id)
        action = service.pending_action or (A.CREATE if service.status == S.FAILED else "")
        if not action or (service.pending_action and not service.action_parked):
            raise ProvisioningError("There is no failed action to retry on this service.")
        _queue(service, action)
        _record(service, actor, f"{action}_retried", service.status, service.status, {})
        service.save()
    return service


def _check_request(service: Service, action: str, product: Product | None) -> None:
    if action not in REQUIRED_STATUS:
        raise ProvisioningError(f"Unknown action {action!r}.")
    if service.status not in REQUIRED_STATUS[action]:
        label = ServiceAction(action).label.lower()
        raise ProvisioningError(f"A {service.get_status_display().lower()} service cannot {label}.")
    if service.pending_action and not service.action_parked:
        raise ProvisioningError(
            f"“{service.get_pending_action_display()}” is still in progress; wait for it."
        )
    if action == A.CHANGE_PACKAGE and (product is None or product.pk == service.product_id):
        raise ProvisioningError("Choose a different product to change to.")


def _queue(service: Service, action: str) -> None:
    service.pending_action = action
    service.action_requested_at = service.action_due_at = timezone.now()
    service.action_failed_at = None
    service.action_token = None
    service.action_started_at = None
    service.action_attempts = 0
    enqueue_on_commit(_run_task(), service.pk)


def _run_task():  # a Celery task; imported late because tasks imports this module
    from provisioning.tasks import run_pending_action

    return run_pending_action


# The worker side ---------------------------------------------------------------------------------


def service_run_pending_action(*, service_id: int) -> None:
    """Carry out whatever the service has pending; a no-op when nothing is or another worker is."""
    claim = _claim(service_id)
    if claim is None:
        return
    runner = {
        A.CREATE: _provision,
        A.SUSPEND: _set_panel_status,
        A.UNSUSPEND: _set_panel_status,
        A.TERMINATE: _terminate,
        A.CHANGE_PACKAGE: _apply_bandwidth,
    }[claim.service.pending_action]
    try:
        runner(claim)
    except LeaseLost:
        logger.warning("Service %s: lease lost mid-run; the other worker carries on", service_id)
    except PanelError as exc:
        if not exc.transient:
            _park(claim, str(exc))
        else:
            _retry_later(claim, str(exc), retry_after=exc.retry_after)
    except PlacementDeferred as exc:
        _retry_later(claim, str(exc))
    except ProvisioningError as exc:
        _park(claim, str(exc))
    except Exception as exc:
        logger.exception("Service %s: unexpected error in %s", service_id, runner.__name__)
        _park(claim, f"Unexpected error ({type(exc).__name__}): {exc}")


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


def _maybe_created_warning(service: Service) -> str:
    if service.pending_action != A.CREATE or service.create_posted_at is None:
        return ""
    return (
        f"The last create of {service.remote_name!r} on {service.server} may have reached the "
        "panel: check for that client there, or retry this service to adopt it."
    )


def _retry_later(claim: Claim, error: str, *, retry_after: float | None = None) -> None:
    """Release the lease and schedule the next run, or park once this request's runs are spent.

    The limit counts runs on the row (``action_attempts``), so a re-queue by the sweeper or a
    duplicate message cannot start the count again.
    """
    service = claim.service
    if service.action_attempts > settings.PROVISIONING_MAX_RETRIES:
        attention = _maybe_created_warning(service)
        _park(
            claim, f"Gave up after {service.action_attempts} attempts: {error}", attention=attention
        )
        return
    countdown = retry_countdown(service.action_attempts, retry_after)
    _release(claim, error, due_in=countdown)
    raise ProvisioningRetry(error, countdown=countdown)


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
                enqueue_on_commit(_run_task(), service_id)
                count += 1
    return count


def _claim(service_id: int) -> Claim | None:
    with transaction.atomic():
        service = Service.objects.select_for_update().filter(pk=service_id).first()
        if service is None or not service.pending_action or service.action_parked:
            return None
        if _lease_is_fresh(service) or _not_yet_due(service):
            return None
        if service.action_attempts > settings.PROVISIONING_MAX_RETRIES:
            _park_locked(
                service,
                f"The worker stopped {service.action_attempts} times while running this action "
                "(killed or crashed) without a result.",
                attention=_maybe_created_warning(service),
            )
            return None
        service.action_token = uuid.uuid4()
        service.action_started_at = timezone.now()
        service.action_attempts += 1
        if service.pending_action == A.CREATE and service.status != S.PROVISIONING:
            _transition(service, S.PROVISIONING, "provisioning_started")
        service.save()
    return Claim(service, service.action_token)


def _not_yet_due(service: Service) -> bool:
    """A message of an older retry chain arriving during this request's backoff is dropped."""
    early = timezone.now() + timedelta(seconds=DUE_TOLERANCE_SECONDS)
    return service.action_due_at is not None and service.action_due_at > early


def _lease_is_fresh(service: Service) -> bool:
    if service.action_token is None or service.action_started_at is None:
        return False
    age = timezone.now() - service.action_started_at
    return age < timedelta(seconds=settings.PROVISIONING_LEASE_SECONDS)


def _locked_if_still_ours(claim: Claim) -> Service | None:
    service = Service.objects.select_for_update().get(pk=claim.service.pk)
    if service.action_token != claim.token:
        logger.warning("Service %s: lease lost, result of this run is dropped", service.pk)
        return None
    return service


def _finish(
    claim: Claim,
    *,
    to_status: str | None,
    event: str,
    data: dict[str, Any] | None = None,
    resolves_attention: bool = False,
) -> None:
    """Record the outcome if this worker still holds the lease.

    ``resolves_attention``: the client under the service's name now exists as intended (created)
    or is gone (terminated), so a flagged orphan of an earlier attempt is dealt with.
    """
    with transaction.atomic():
        service = _locked_if_still_ours(claim)
        if service is None:
            return
        for name in ("server_id", "network", "remote_name"):
            setattr(service, name, getattr(claim.service, name))
        if service.pending_action == A.CHANGE_PACKAGE and service.pending_product_id:
            service.product_id = service.pending_product_id
        _clear_action(service)
        service.last_error = ""
        if resolves_attention:
            service.needs_attention = False
            service.attention_reason = ""
        if to_status and to_status != service.status:
            _transition(service, to_status, event, data)
        else:
            _record(service, None, event, service.status, service.status, data or {})
        service.save()


def _release(claim: Claim, error: str, *, due_in: float) -> None:
    with transaction.atomic():
        service = _locked_if_still_ours(claim)
        if service is None:
            return
        service.action_token = None
        service.action_started_at = None
        service.action_due_at = timezone.now() + timedelta(seconds=due_in)
        service.last_error = error
        service.save()


def _park(claim: Claim, reason: str, *, attention: str = "") -> None:
    with transaction.atomic():
        service = _locked_if_still_ours(claim)
        if service is not None:
            _park_locked(service, reason, attention=attention)


def _park_locked(service: Service, reason: str, *, attention: str = "") -> None:
    action = service.pending_action
    service.action_failed_at = timezone.now()
    service.action_token = None
    service.action_started_at = None
    service.last_error = reason
    if attention:
        service.needs_attention = True
        service.attention_reason = attention
    if action == A.CREATE:
        _transition(service, S.FAILED, "provisioning_failed", {"reason": reason})
    else:
        _record(
            service, None, f"{action}_failed", service.status, service.status, {"reason": reason}
        )
    service.save()


def _clear_action(service: Service) -> None:
    service.pending_action = ""
    service.pending_product = None
    service.action_requested_at = None
    service.action_due_at = None
    service.action_token = None
    service.action_started_at = None
    service.action_failed_at = None


def _transition(
    service: Service, to_status: str, event: str, data: dict[str, Any] | None = None
) -> None:
    """The only place a status changes: checks the state machine and writes the audit row."""
    if not service.can_transition_to(to_status):
        raise ProvisioningError(f"Service {service.pk}: {service.status} → {to_status} not allowed")
    from_status, service.status = service.status, to_status
    now = timezone.now()
    if to_status == S.ACTIVE and service.activated_at is None:
        service.activated_at = now
    if to_status == S.SUSPENDED:
        service.suspended_at = now
    if to_status == S.TERMINATED:
        service.terminated_at = now
    _record(service, None, event, from_status, to_status, data or {})


def service_reapply_suspend(*, service_id: int, reason: str) -> bool:
    """Queue the disable of a suspended service's client again; False if the service moved on.

    Reconciliation's one automatic fix goes through the outbox like every other panel write, so
    the worker holds the service's lease while it disables the client and a later unsuspend can
    never be overwritten by it.
    """
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service_id)
        if service.status != S.SUSPENDED or service.pending_action:
            return False
        _queue(service, A.SUSPEND)
        _record(service, None, "resuspend_requested", S.SUSPENDED, S.SUSPENDED, {"reason": reason})
        service.save()
    return True


def service_clear_attention(*, service_id: int, actor: Any = None) -> Service:
    """An admin has dealt with what the flag pointed at (e.g. deleted an orphan on the panel)."""
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service_id)
        if not service.needs_attention:
            raise ProvisioningError("This service is not flagged.")
        reason, service.needs_attention, service.attention_reason = (
            service.attention_reason,
            False,
            "",
        )
        _record(
            service, actor, "attention_cleared", service.status, service.status, {"reason": reason}
        )
        service.save()
    return service


def service_event_record(
    *, service: Service, actor: Any, action: str, data: dict[str, Any]
) -> None:
    """Audit a change that is not a status change (e.g. a fix applied by reconciliation)."""
    _record(service, actor, action, service.status, service.status, data)


def _record(
    service: Service,
    actor: Any,
    action: str,
    from_status: str,
    to_status: str,
    data: dict[str, Any],
) -> None:
    ServiceEvent.objects.create(
        service=service,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        data=data,
    )


def _panel(claim: Claim, server: Server) -> PanelClient:
    """A client whose every call is logged and renews this worker's lease on the service."""
    recorder = ModuleLogRecorder(
        server=server,
        service=claim.service,
        action=claim.service.pending_action,
        correlation_id=claim.token,
    )

    def on_call(record: CallRecord) -> None:
        recorder(record)
        Service.objects.filter(pk=claim.service.pk, action_token=claim.token).update(
            action_started_at=timezone.now()
        )

    return panel_client_for(server, on_call=on_call)


# Create ------------------------------------------------------------------------------------------


def _provision(claim: Claim) -> None:
    service = claim.service
    client = _adopt_existing(claim) or _create_on_best_target(claim)
    if client is None:
        return
    service.network = client.network_name or service.network
    panel = _panel(claim, service.server)
    product_settings = service.product.typed_settings
    _hold_lease(claim)
    try:
        panel.update_client(
            service.remote_name,
            b_download=product_settings.download_mbps,
            b_upload=product_settings.upload_mbps,
        )
    except PanelError as exc:
        _roll_back_create(claim, panel, exc)
        return
    _finish(
        claim,
        to_status=S.ACTIVE,
        event="provisioned",
        data={"server": service.server_id, "network": client.network_name, "ipv4": client.ipv4},
        resolves_attention=True,
    )


def _adopt_existing(claim: Claim) -> VpnClient | None:
    """After a lost response, the client may exist already: find it by its persisted name."""
    service = claim.service
    if service.server is None or service.create_posted_at is None:
        return None
    try:
        client = _panel(claim, service.server).get_client(service.remote_name)
    except PanelNotFound:
        return None
    return client


def _create_on_best_target(claim: Claim) -> VpnClient | None:
    service = claim.service
    posted_to = service.server_id if service.create_posted_at is not None else None
    _assign_name(claim)
    servers = list(service.product.group.servers.all())
    if posted_to is not None:
        # An earlier POST there may still be applied late: never start a second client elsewhere.
        servers = [server for server in servers if server.pk == posted_to]
    report = PlacementReport()
    panels: dict[int, PanelClient] = {}

    def client_for(server: Server) -> PanelClient:
        if server.pk not in panels:
            panels[server.pk] = _panel(claim, server)
        return panels[server.pk]

    candidates = deployable_candidates(
        service.product.typed_settings, servers, client_for, report, service_id=service.pk
    )
    for candidate in candidates:
        if not _assign_target(claim, candidate.server, candidate.network):
            report.skip(candidate.server, candidate.network, "local cap reached meanwhile")
            continue
        try:
            return _post_client(
                claim,
                client_for(candidate.server),
                candidate.network,
                posted_here_before=candidate.server.pk == posted_to,
            )
        except PanelRejected as exc:
            if not exc.api_message.startswith(CAPACITY_MESSAGES):
                raise
            report.skip(candidate.server, candidate.network, exc.api_message)
    if report.transient_failure:
        raise PlacementDeferred(f"No deployable server yet: {report.summary()}")
    _park(
        claim,
        f"No deployable server/network: {report.summary()}. Nothing was created.",
        attention=_maybe_created_warning(service),
    )
    return None


def _post_client(
    claim: Claim, panel: PanelClient, network: str | None, *, posted_here_before: bool
) -> VpnClient:
    """POST the client; a name taken on the panel by a client that is not ours gets a suffix.

    The name is ours to adopt only if an earlier run posted it to this same server (its response
    lost, or its lease expired mid-call); a name in use that we never posted here belongs to
    someone else and is never taken over.
    """
    service = claim.service
    for _ in range(MAX_RENAMES):
        if not posted_here_before and _exists_on_panel(panel, service.remote_name):
            _rename(claim)
            continue
        _update_claimed(claim, create_posted_at=timezone.now())
        try:
            return panel.create_client(network_name=network, name=service.remote_name)
        except PanelRejected as exc:
            if exc.api_message != NAME_IN_USE:
                _update_claimed(claim, create_posted_at=None)
                raise
            if posted_here_before:
                with contextlib.suppress(PanelNotFound):
                    return panel.get_client(service.remote_name)
            posted_here_before = False
            _rename(claim)
        except PanelError as exc:
            if not exc.maybe_applied:
                _update_claimed(claim, create_posted_at=None)
            raise
    raise ProvisioningError(f"No free client name after {MAX_RENAMES} tries on {panel.label}.")


def _exists_on_panel(panel: PanelClient, name: str) -> bool:
    try:
        panel.get_client(name)
    except PanelNotFound:
        return False
    return True


def _rename(claim: Claim) -> None:
    """The next free ``-1``, ``-2``, … name; another service taking it first just moves us on."""
    name = deduplicated(claim.service.remote_name, _name_is_taken)
    with contextlib.suppress(IntegrityError), transaction.atomic():
        _update_claimed(claim, remote_name=name, create_posted_at=None)


def _name_is_taken(name: str) -> bool:
    return Service.objects.filter(remote_name=name).exists()


def _hold_lease(claim: Claim) -> None:
    """Renew the lease before a panel write, or stop: a worker that lost it must not write."""
    _update_claimed(claim, action_started_at=timezone.now())


def _update_claimed(claim: Claim, **fields: Any) -> None:
    """Persist fields of the claimed service, only while this worker holds the lease."""
    updated = Service.objects.filter(pk=claim.service.pk, action_token=claim.token).update(**fields)
    if not updated:
        raise LeaseLost
    for name, value in fields.items():
        setattr(claim.service, name, value)


def _assign_name(claim: Claim) -> None:
    """Choose and persist the client name before any POST, so a retry can find the client."""
    service = claim.service
    if service.remote_name:
        return
    rule = service.product.typed_settings.client_name_rule
    rng = random.SystemRandom()
    for _ in range(5):
        base = render_name_rule(
            rule,
            client_id=service.customer_id,
            service_id=service.pk,
            now=timezone.now(),
            rng=rng,
        )
        try:
            with transaction.atomic():
                _update_claimed(claim, remote_name=deduplicated(base, _name_is_taken))
        except IntegrityError:
            continue
        return
    raise ProvisioningError("No free client name could be chosen; check the product's name rule.")


def _assign_target(claim: Claim, server: Server, network: str | None) -> bool:
    """Move the service to ``server`` unless the local cap is reached (checked under lock)."""
    with transaction.atomic():
        locked = Server.objects.select_for_update().get(pk=server.pk)
        service_id = claim.service.pk
        cap = locked.max_accounts
        if cap is not None and accounts_taken(locked, excluding_service_id=service_id) >= cap:
            return False
        _update_claimed(claim, server=locked, network=network or "")
    return True


def _roll_back_create(claim: Claim, panel: PanelClient, cause: PanelError) -> None:
    """Bandwidth could not be applied: delete the uncapped client so it is never billed."""
    name = claim.service.remote_name
    reason = f"Bandwidth could not be applied ({cause})"
    _hold_lease(claim)
    try:
        panel.delete_client(name)
    except PanelNotFound:
        pass
    except PanelError as exc:
        _park(
            claim,
            f"{reason}; rolling back failed too ({exc}).",
            attention=f"Orphan client {name!r} may exist on {claim.service.server}: delete it "
            "on the panel or retry this service.",
        )
        return
    _park(claim, f"{reason}; the client was deleted again.")


# Suspend, unsuspend, terminate, change package ---------------------------------------------------


def _set_panel_status(claim: Claim) -> None:
    service = _provisioned(claim)
    suspend = service.pending_action == A.SUSPEND
    _hold_lease(claim)
    _panel(claim, service.server).update_client(
        service.remote_name, status=ClientStatus.DISABLE if suspend else ClientStatus.ENABLE
    )
    if suspend:
        _finish(claim, to_status=S.SUSPENDED, event="suspended")
    else:
        _finish(claim, to_status=S.ACTIVE, event="unsuspended")


def _terminate(claim: Claim) -> None:
    service = claim.service
    if service.server is not None and service.create_posted_at is not None:
        _hold_lease(claim)
        with contextlib.suppress(PanelNotFound):
            _panel(claim, service.server).delete_client(service.remote_name)
    _finish(claim, to_status=S.TERMINATED, event="terminated", resolves_attention=True)


def _apply_bandwidth(claim: Claim) -> None:
    service = _provisioned(claim)
    product = service.pending_product or service.product
    product_settings = product.typed_settings
    _hold_lease(claim)
    _panel(claim, service.server).update_client(
        service.remote_name,
        b_download=product_settings.download_mbps,
        b_upload=product_settings.upload_mbps,
    )
    _finish(
        claim,
        to_status=None,
        event="package_changed",
        data={
            "product": product.pk,
            "download_mbps": product_settings.download_mbps,
            "upload_mbps": product_settings.upload_mbps,
        },
    )


def _provisioned(claim: Claim) -> Service:
    service = claim.service
    if service.server is None or not service.remote_name:
        raise ProvisioningError("This service has no client on a panel.")
    return service
